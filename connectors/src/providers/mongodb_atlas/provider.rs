//! MongoDB Atlas in the registry.

use crate::providers::{Credential, Provider, Rotation, Setting, Support, VerifyFound};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "mongodb_atlas",
    name: "MongoDB Atlas",
    credentials: &[
        &[
            Credential { field: "public_key", env: "MONGODB_ATLAS_PUBLIC_API_KEY", label: "Public key" },
            Credential { field: "private_key", env: "MONGODB_ATLAS_PRIVATE_API_KEY", label: "Private key" },
        ],
        &[
            Credential { field: "client_id", env: "MONGODB_ATLAS_CLIENT_ID", label: "Service account client id" },
            Credential { field: "client_secret", env: "MONGODB_ATLAS_CLIENT_SECRET", label: "Service account secret" },
        ],
    ],
    settings: &[
        Setting { flag: "--org-id", help: "the Atlas organization id (required)" },
        Setting { flag: "--endpoint", help: "the Admin API's URL (Atlas for Government, a proxy, a stand-in)" },
    ],
    inventory: Support::Yes("the organization's API keys and service-account secrets, with access lists"),
    check: Support::Yes("sign-in, then one page of the organization's API keys"),
    verify_found: VerifyFound::No(
        "an Atlas key is a public/private pair signed with HTTP Digest: one half found alone cannot be checked",
    ),
    rotation: Rotation {
        create: Support::No("Keyward does not rotate Atlas keys yet"),
        disable: Support::No("Keyward does not rotate Atlas keys yet"),
        delete: Support::No("Keyward does not rotate Atlas keys yet"),
        limits: &[],
    },
};
