//! Amazon API Gateway in the registry.

use crate::providers::{Provider, Rotation, Setting, Support, VerifyFound};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "aws_apigateway",
    name: "Amazon API Gateway",
    credentials: &[],
    settings: &[
        Setting { flag: "--profile", help: "the named profile of ~/.aws/config to use" },
        Setting { flag: "--region", help: "the region the SDK starts in" },
        Setting { flag: "--regions", help: "the regions to inventory (default: every commercial region)" },
        Setting { flag: "--endpoint", help: "the API Gateway URL instead of AWS's (a stand-in)" },
    ],
    inventory: Support::Yes("REST API keys with their usage plans, and REST/HTTP API posture (stages, routes, WAF)"),
    check: Support::Yes("one read of keys, usage plans and APIs in the first region"),
    verify_found: VerifyFound::No(
        "an API Gateway key works only against the APIs that require it: there is no call that says whether it is live",
    ),
    rotation: Rotation {
        create: Support::No("Keyward does not rotate API Gateway keys yet"),
        disable: Support::No("Keyward does not rotate API Gateway keys yet"),
        delete: Support::No("Keyward does not rotate API Gateway keys yet"),
        limits: &[],
    },
};
