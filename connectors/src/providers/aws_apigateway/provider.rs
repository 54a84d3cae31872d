//! Amazon API Gateway in the registry.

use crate::ConnectorError;
use crate::providers::{
    BoxFuture, Connect, Credentials, Provider, Rotation, Rotator, Setting, SettingKind, Settings, Source, Support,
    VerifyFound,
};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "aws_apigateway",
    name: "Amazon API Gateway",
    credentials: &[],
    settings: &[
        Setting {
            flag: "--profile",
            key: "profile",
            help: "the named profile of ~/.aws/config to use",
            kind: SettingKind::Text,
        },
        Setting { flag: "--region", key: "region", help: "the region the SDK starts in", kind: SettingKind::Text },
        Setting {
            flag: "--regions",
            key: "regions",
            help: "the regions to inventory (default: every commercial region)",
            kind: SettingKind::List,
        },
        Setting {
            flag: "--endpoint",
            key: "endpoint",
            help: "the API Gateway URL instead of AWS's (a stand-in)",
            kind: SettingKind::Text,
        },
    ],
    inventory: Support::Yes("REST API keys with their usage plans, and REST/HTTP API posture (stages, routes, WAF)"),
    connect: Some(Connect { validate: crate::providers::aws::provider::validate, open }),
    ids_in_files: &[],
    cloud_partition: Some(crate::providers::aws::provider::PARTITION),
    check: Support::Yes("one read of keys, usage plans and APIs in the first region"),
    verify_found: VerifyFound::No(
        "an API Gateway key works only against the APIs that require it: there is no call that says whether it is live",
    ),
    rotation: Rotation {
        kinds: &["rest_api_key"],
        create: Support::Yes(
            "CreateApiKey (enabled; the old key's name with a (rotated) mark, its description, customer id, tags \
             and stage keys) and CreateUsagePlanKey into every usage plan of the old key (GetUsagePlans keyId=); \
             verified by reading the new key back with GetApiKey includeValue=true (enabled, the sealed value, the \
             stage keys, every plan): a read-back, not a use of the key, which API Gateway has no call for",
        ),
        disable: Support::Yes("UpdateApiKey replace /enabled false (undone with true)"),
        delete: Support::Yes("DeleteApiKey"),
        limits: &[
            "10,000 API keys per account per region",
            "CreateApiKey and DeleteApiKey: 5 requests per second per account",
        ],
        keys_per_owner: None,
        // A read-back of a key just made: seconds at most.
        settle: std::time::Duration::from_secs(10),
        open: Some(open_rotator),
        in_files: None,
        by_hand: None,
        asks_password: false,
    },
};

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move {
        let stored: crate::providers::aws::provider::Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        Ok(Box::new(super::ApiGateway::connect(&stored.sdk(s, c), &stored.regions).await) as Box<dyn Source>)
    })
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move {
        let stored: crate::providers::aws::provider::Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        Ok(Box::new(super::rotation::ApiGatewayRotator::connect(&stored.sdk(s, c), &stored.regions).await)
            as Box<dyn Rotator>)
    })
}
