//! Linear in the registry: no connector (its API cannot list keys), keys registered by hand and
//! checked for liveness.

use crate::ConnectorError;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, ProbeRequest, Provider, Rotation, Support, VerifyFound};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "linear",
    name: "Linear",
    credentials: &[],
    settings: &[],
    inventory: Support::No(super::UNSUPPORTED),
    connect: None,
    ids_in_files: &[],
    cloud_partition: None,
    check: Support::No(super::UNSUPPORTED),
    verify_found: VerifyFound::Yes {
        kind: "api_key",
        call: "GraphQL viewer",
        endpoints: || vec![super::ENDPOINT.to_owned()],
        probe,
        partner: None,
    },
    rotation: Rotation {
        create: Support::No(super::UNSUPPORTED),
        disable: Support::No(super::UNSUPPORTED),
        delete: Support::No(super::UNSUPPORTED),
        by_hand: Some("in Linear (Settings → Security & access → Personal API keys → New API key)"),
        ..Rotation::NONE
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        Ok(match super::check_key(Some(&r.base), r.token, r.http.clone()).await? {
            Some(v) => Liveness::Live(Some(if v.email.is_empty() { v.id } else { v.email })),
            None => Liveness::Rejected,
        })
    })
}
