//! Counting the requests a sync sends to AWS.
//!
//! IAM is throttled per account, so the number of requests — not Keyward's own time — is what
//! an audit of a large account costs. The count is taken where the SDK transmits (an
//! interceptor), so retries after throttling are counted too, and every client of a sync (IAM,
//! STS, Organizations, API Gateway) shares one counter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::Calls;

/// A shared count of transmitted requests by `service:Operation`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    /// What has been counted so far.
    pub(crate) fn calls(&self) -> Calls {
        Calls(self.0.lock().expect("call counter poisoned").clone())
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "keyward-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = match cfg.load::<Metadata>() {
            Some(m) => format!("{}:{}", m.service().to_ascii_lowercase(), m.name()),
            None => "unknown".to_owned(),
        };
        *self.0.lock().expect("call counter poisoned").entry(operation).or_default() += 1;
        Ok(())
    }
}
