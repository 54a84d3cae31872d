//! AWS IAM in the registry, and the liveness check of an AWS secret key found on disk.

use crate::liveness::Liveness;
use crate::providers::{BoxFuture, ProbeRequest, Provider, Rotation, Setting, Support, VerifyFound};
use crate::{ConnectorError, ErrorKind};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "aws",
    name: "AWS IAM",
    // The SDK's credential chain: environment, profile, SSO, instance role.
    credentials: &[],
    settings: &[
        Setting { flag: "--profile", help: "the named profile of ~/.aws/config to use" },
        Setting { flag: "--region", help: "the region the SDK signs for (IAM is global)" },
        Setting { flag: "--endpoint", help: "the IAM/STS URL instead of AWS's (a stand-in)" },
    ],
    inventory: Support::Yes("IAM users' access keys, their last use, and their owners' policies and groups"),
    check: Support::Yes("STS GetCallerIdentity, then one read of each IAM call the inventory makes"),
    // Probed only at AWS (or the configured endpoint): STS is global.
    verify_found: VerifyFound::Yes {
        kind: "secret_access_key",
        call: "STS GetCallerIdentity",
        endpoints: Vec::new,
        probe,
    },
    rotation: Rotation {
        create: Support::No("Keyward does not rotate IAM access keys yet"),
        disable: Support::No("Keyward does not rotate IAM access keys yet"),
        delete: Support::No("Keyward does not rotate IAM access keys yet"),
        limits: &["2 access keys per IAM user"],
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let Some(id) = r.partner else {
            return Err(ConnectorError::new(
                "aws",
                ErrorKind::Config,
                "an AWS secret key is checked with its access key id, and none was found next to it",
            ));
        };
        super::caller_identity(id, r.token, r.endpoint).await
    })
}
