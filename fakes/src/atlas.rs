//! MongoDB Atlas Administration API v2 as `../shared/reference/provider-apis.md` §2 describes it
//! (Atlas's own OpenAPI file is not vendored: its licence forbids it): HTTP Digest auth (MD5,
//! `qop=auth`) for programmatic API keys, OAuth 2.0 client credentials for service accounts,
//! the versioned `Accept` header, `pageNum`/`itemsPerPage` (≤ 500)/`includeCount` paging, Atlas's
//! error body (`error`, `errorCode`, `detail`, `reason`) and 429 `RATE_LIMITED_TOKEN_BUCKET` with
//! `Retry-After`.
//!
//! For rotation: service-account secrets (below), and programmatic API keys made with org roles
//! (`POST …/orgs/{org}/apiKeys`, the private key in that answer only), assigned to projects
//! (`POST …/groups/{group}/apiKeys/{id}` with the project's roles) and given access-list entries
//! (`POST …/orgs/{org}/apiKeys/{id}/accessList`); `GET …/orgs/{org}` is the harmless read any key
//! of the org may make.

use std::sync::Mutex;

use base64::Engine;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::server::{Provider, Reply, Request, form};
use crate::ts;

/// One access-list entry with its use.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    /// `ipAddress` or `cidrBlock`.
    pub cidr: String,
    /// Added.
    pub created: DateTime<Utc>,
    /// Last request through this entry.
    pub last_used: Option<DateTime<Utc>>,
    /// Address of that request.
    pub last_used_address: Option<String>,
    /// Requests through it.
    pub count: u64,
}

/// A role grant: org-level when `group_id` is `None`.
#[derive(Debug, Clone)]
pub struct Role {
    /// `ORG_OWNER`, `GROUP_READ_ONLY`...
    pub name: String,
    /// Project id for project roles.
    pub group_id: Option<String>,
}

/// A programmatic API key.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// `apiUserId`.
    pub id: String,
    /// `desc`.
    pub desc: String,
    /// The 8-character public key (the Digest username).
    pub public_key: String,
    /// The private key (the Digest password).
    pub private_key: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Access list.
    pub access_list: Vec<AccessEntry>,
}

/// A service-account secret.
#[derive(Debug, Clone)]
pub struct SaSecret {
    /// Id.
    pub id: String,
    /// The secret.
    pub secret: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Last used.
    pub last_used: Option<DateTime<Utc>>,
}

/// A service account.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    /// `mdb_sa_id_…`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Secrets (at most two).
    pub secrets: Vec<SaSecret>,
    /// Access list.
    pub access_list: Vec<AccessEntry>,
}

/// The organization.
#[derive(Debug, Default)]
pub struct State {
    /// API keys.
    pub api_keys: Vec<ApiKey>,
    /// Service accounts.
    pub service_accounts: Vec<ServiceAccount>,
    /// `apiAccessListRequired`.
    pub api_access_list_required: bool,
    /// Bearer tokens handed out, with the client id they belong to.
    pub tokens: Vec<(String, String)>,
    /// Secrets made so far (for new ids and values).
    pub made: u64,
    /// The last secret created, per service account: another create within a second of it
    /// answers 409, as Atlas answers parallel creates.
    pub last_create: Vec<(String, std::time::Instant)>,
    /// Creates still to answer 409 whatever the timing (tests of the client's waiting).
    pub busy_answers: u32,
}

/// The fake Atlas.
pub struct Atlas {
    /// The org id the fake serves.
    pub org_id: String,
    /// The org's state.
    pub state: Mutex<State>,
    nonce_counter: Mutex<u64>,
}

const REALM: &str = "MMS Public API";
const MEDIA_PREFIX: &str = "application/vnd.atlas.";

impl Atlas {
    /// A fake org.
    pub fn new(org_id: &str, state: State) -> Self {
        Self { org_id: org_id.to_owned(), state: Mutex::new(state), nonce_counter: Mutex::new(0) }
    }

    fn challenge(&self, detail: &str) -> Reply {
        let mut n = self.nonce_counter.lock().unwrap();
        *n += 1;
        let nonce = base64::engine::general_purpose::STANDARD.encode(format!("keyward-fake-nonce-{n}"));
        self.error(401, detail).with_header(
            "WWW-Authenticate",
            format!(
                "Digest realm=\"{REALM}\", domain=\"\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\", stale=false"
            ),
        )
    }

    /// Which principal the request authenticates as: `Ok(public key or client id)`.
    fn authenticate(&self, req: &Request, state: &State) -> Result<String, Reply> {
        let Some(auth) = req.header("authorization") else {
            return Err(self.challenge("You are not authorized for this resource."));
        };
        if let Some(token) = auth.strip_prefix("Bearer ") {
            return state
                .tokens
                .iter()
                .find(|(t, _)| t == token)
                .map(|(_, c)| c.clone())
                .ok_or_else(|| self.error(401, "Invalid or expired access token."));
        }
        let Some(params) = auth.strip_prefix("Digest ") else {
            return Err(self.challenge("Unsupported authorization scheme."));
        };
        let fields = digest_fields(params);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
        let Some(key) = state.api_keys.iter().find(|k| k.public_key == get("username")) else {
            return Err(self.challenge("Invalid API key."));
        };
        let ha1 = md5_hex(&format!("{}:{REALM}:{}", key.public_key, key.private_key));
        let ha2 = md5_hex(&format!("{}:{}", req.method, get("uri")));
        let expected = md5_hex(&format!("{ha1}:{}:{}:{}:{}:{ha2}", get("nonce"), get("nc"), get("cnonce"), get("qop")));
        let uri_matches = get("uri").split('?').next() == Some(req.path.as_str());
        if get("realm") != REALM || expected != get("response") || !uri_matches {
            return Err(self.challenge("Invalid digest response."));
        }
        Ok(key.public_key.clone())
    }

    fn token(&self, req: &Request, state: &mut State) -> Reply {
        let creds = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok());
        let grant = form(&req.body).into_iter().any(|(k, v)| k == "grant_type" && v == "client_credentials");
        let Some((id, secret)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
            return Reply::json(401, &json!({"error": "invalid_client"}));
        };
        let ok = state
            .service_accounts
            .iter()
            .any(|sa| sa.client_id == id && sa.secrets.iter().any(|s| s.secret == secret && s.expires_at > Utc::now()));
        if !ok || !grant {
            return Reply::json(401, &json!({"error": "invalid_client"}));
        }
        let token = format!("fake-atlas-token-{}-{}", state.tokens.len(), crate::hash(id));
        state.tokens.push((token.clone(), id.to_owned()));
        Reply::json(200, &json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}))
    }

    /// A new secret for a service account, with Atlas's limits: two secrets at most (expired
    /// ones count: Atlas does not delete them), 8 hours to the org's maximum validity, no two
    /// creates at once (409), and every other secret's life cut to 7 days at most.
    fn create_secret(&self, state: &mut State, client_id: &str, hours: Option<i64>, media: &str) -> Reply {
        let now = Utc::now();
        let busy = state.busy_answers > 0;
        state.busy_answers = state.busy_answers.saturating_sub(1);
        if busy
            || state
                .last_create
                .iter()
                .any(|(c, at)| c == client_id && at.elapsed() < std::time::Duration::from_secs(1))
        {
            return self.error_coded(
                409,
                "DATA_CONCURRENCY_ERROR",
                "Another request is updating this service account; retry.",
            );
        }
        let Some(hours) = hours.filter(|h| (8..=8760).contains(h)) else {
            return self.error(400, "secretExpiresAfterHours must be between 8 and 8760.");
        };
        state.made += 1;
        let n = state.made;
        let Some(sa) = state.service_accounts.iter_mut().find(|s| s.client_id == client_id) else {
            return self.error(404, "Service account not found.");
        };
        if sa.secrets.len() >= 2 {
            return self.error_coded(
                400,
                "SERVICE_ACCOUNT_MAX_SECRETS",
                "A service account can have at most 2 secrets; delete one first.",
            );
        }
        for other in &mut sa.secrets {
            other.expires_at = other.expires_at.min(now + chrono::Duration::days(7));
        }
        let secret = SaSecret {
            id: format!("{:024x}", 0xa71a5_u64 << 32 | n),
            secret: format!("mdb_sa_sk_{:040x}", u128::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)),
            created_at: now,
            expires_at: now + chrono::Duration::hours(hours),
            last_used: None,
        };
        let body = json!({
            "id": secret.id,
            "createdAt": ts(secret.created_at),
            "expiresAt": ts(secret.expires_at),
            "maskedSecretValue": format!("mdb_sa_sk_********{}", &secret.secret[secret.secret.len() - 4..]),
            "secret": secret.secret,
        });
        sa.secrets.push(secret);
        state.last_create.retain(|(c, _)| c != client_id);
        state.last_create.push((client_id.to_owned(), std::time::Instant::now()));
        Reply::typed(201, media, &body)
    }

    /// An Atlas error body with its `errorCode`.
    fn api_key_json(&self, k: &ApiKey, private: bool) -> Value {
        let masked = format!("********-****-****-{}", &k.private_key[k.private_key.len().saturating_sub(12)..]);
        json!({
            "id": k.id,
            "desc": k.desc,
            "publicKey": k.public_key,
            "privateKey": if private { k.private_key.clone() } else { masked },
            "roles": roles_json(&k.roles, &self.org_id),
            "links": [],
        })
    }

    /// A new org API key: `desc` (1–250 characters) and at least one org role.
    fn create_api_key(&self, state: &mut State, body: &Value, media: &str) -> Reply {
        let desc = body["desc"].as_str().unwrap_or_default();
        if desc.is_empty() || desc.chars().count() > 250 {
            return self.error(400, "desc must be 1 to 250 characters.");
        }
        let roles: Vec<Role> = body["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|r| Role { name: r.to_owned(), group_id: None })
            .collect();
        if roles.is_empty() || roles.iter().any(|r| !r.name.starts_with("ORG_")) {
            return self.error_coded(400, "INVALID_ROLE", "An organization API key needs organization roles.");
        }
        state.made += 1;
        let n = state.made;
        let key = ApiKey {
            id: format!("{:024x}", 0xa91_u64 << 40 | n),
            desc: desc.to_owned(),
            public_key: format!("{:08x}", crate::hash(&format!("public-{n}")) as u32),
            private_key: format!("{:032x}", u128::from(n).wrapping_mul(0x2545_F491_4F6C_DD1D_9E37_79B9_7F4A_7C15)),
            roles,
            access_list: Vec::new(),
        };
        let out = self.api_key_json(&key, true);
        state.api_keys.push(key);
        Reply::typed(200, media, &out)
    }

    fn error_coded(&self, status: u16, code: &str, message: &str) -> Reply {
        let reason = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            406 => "Not Acceptable",
            409 => "Conflict",
            429 => "Too Many Requests",
            _ => "Internal Server Error",
        };
        Reply::json(
            status,
            &json!({"detail": message, "error": status, "errorCode": code, "parameters": [], "reason": reason}),
        )
    }

    fn paged(&self, req: &Request, items: Vec<Value>, media: &str) -> Reply {
        let num = req.query("pageNum").map_or(Ok(1), str::parse::<usize>);
        let per = req.query("itemsPerPage").map_or(Ok(100), str::parse::<usize>);
        let (Ok(num), Ok(per)) = (num, per) else {
            return self.error(400, "pageNum and itemsPerPage must be integers");
        };
        if num == 0 || per == 0 || per > 500 {
            return self.error(400, "itemsPerPage must be between 1 and 500");
        }
        let total = items.len();
        let results: Vec<Value> = items.into_iter().skip((num - 1) * per).take(per).collect();
        let mut body = json!({"links": [], "results": results});
        if req.query("includeCount") != Some("false") {
            body["totalCount"] = json!(total);
        }
        Reply::typed(200, media, &body)
    }
}

fn digest_fields(params: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = params.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else { break };
        let name = name.trim().trim_start_matches(',').trim().to_owned();
        let (value, after) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_owned(), &q[(end + 1).min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((name, value));
        rest = after.trim_start_matches([',', ' ']);
    }
    out
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn roles_json(roles: &[Role], org_id: &str) -> Value {
    json!(
        roles
            .iter()
            .map(|r| match &r.group_id {
                Some(g) => json!({"roleName": r.name, "groupId": g}),
                None => json!({"roleName": r.name, "orgId": org_id}),
            })
            .collect::<Vec<_>>()
    )
}

fn access_json(e: &AccessEntry, service_account: bool) -> Value {
    let mut v = if e.cidr.ends_with("/32") {
        json!({"ipAddress": e.cidr.trim_end_matches("/32"), "cidrBlock": e.cidr})
    } else {
        json!({"cidrBlock": e.cidr})
    };
    if service_account {
        v["createdAt"] = json!(ts(e.created));
        v["lastUsedAt"] = json!(e.last_used.map(ts));
        v["lastUsedAddress"] = json!(e.last_used_address);
        v["requestCount"] = json!(e.count);
    } else {
        v["created"] = json!(ts(e.created));
        v["lastUsed"] = json!(e.last_used.map(ts));
        v["lastUsedAddress"] = json!(e.last_used_address);
        v["count"] = json!(e.count);
        v["links"] = json!([]);
    }
    v
}

impl Provider for Atlas {
    fn handle(&self, req: &Request) -> Reply {
        let mut state = self.state.lock().unwrap();
        if req.method == "POST" && req.path == "/api/oauth/token" {
            return self.token(req, &mut state);
        }
        if let Err(reply) = self.authenticate(req, &state) {
            return reply;
        }
        let accept = req.header("accept").unwrap_or("");
        let Some(media) = accept.split(',').map(str::trim).find(|m| m.starts_with(MEDIA_PREFIX)) else {
            return self.error(
                406,
                "Atlas API v2 requires a versioned Accept header (application/vnd.atlas.YYYY-MM-DD+json).",
            );
        };
        let media = media.to_owned();
        let segs = req.segments();
        let org = self.org_id.as_str();
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["api", "atlas", "v2", "orgs", o, rest @ ..]) if *o == org => match rest {
                [] => Reply::typed(200, &media, &json!({"id": org, "name": "Example org", "isDeleted": false})),
                ["apiKeys"] => {
                    let items = state.api_keys.iter().map(|k| self.api_key_json(k, false)).collect();
                    self.paged(req, items, &media)
                }
                ["apiKeys", id, "accessList"] => match state.api_keys.iter().find(|k| k.id == *id) {
                    Some(k) => self.paged(req, k.access_list.iter().map(|e| access_json(e, false)).collect(), &media),
                    None => self.error(404, "API key not found."),
                },
                ["serviceAccounts"] => {
                    let items = state
                        .service_accounts
                        .iter()
                        .map(|sa| {
                            json!({
                                "clientId": sa.client_id,
                                "name": sa.name,
                                "description": sa.description,
                                "createdAt": ts(sa.created_at),
                                "roles": sa.roles.iter().filter(|r| r.group_id.is_none()).map(|r| r.name.clone()).collect::<Vec<_>>(),
                                "secrets": sa.secrets.iter().map(|s| json!({
                                    "id": s.id,
                                    "createdAt": ts(s.created_at),
                                    "expiresAt": ts(s.expires_at),
                                    "lastUsedAt": s.last_used.map(ts),
                                    "maskedSecretValue": format!("mdb_sa_sk_********{}", &s.secret[s.secret.len() - 4..]),
                                })).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    self.paged(req, items, &media)
                }
                ["serviceAccounts", id, "accessList"] => {
                    match state.service_accounts.iter().find(|s| s.client_id == *id) {
                        Some(sa) => {
                            self.paged(req, sa.access_list.iter().map(|e| access_json(e, true)).collect(), &media)
                        }
                        None => self.error(404, "Service account not found."),
                    }
                }
                ["settings"] => Reply::typed(
                    200,
                    &media,
                    &json!({
                        "apiAccessListRequired": state.api_access_list_required,
                        "multiFactorAuthRequired": true,
                        "restrictEmployeeAccess": false,
                        "maxServiceAccountSecretValidityInHours": 8760,
                    }),
                ),
                _ => self.error(404, "Resource not found."),
            },
            ("POST", ["api", "atlas", "v2", "orgs", o, "apiKeys"]) if *o == org => {
                let body = req.json();
                self.create_api_key(&mut state, &body, &media)
            }
            ("POST", ["api", "atlas", "v2", "orgs", o, "apiKeys", id, "accessList"]) if *o == org => {
                let entries = req.json();
                let Some(k) = state.api_keys.iter_mut().find(|k| k.id == *id) else {
                    return self.error(404, "API key not found.");
                };
                for e in entries.as_array().into_iter().flatten() {
                    let Some(cidr) = e["cidrBlock"].as_str().or(e["ipAddress"].as_str()) else {
                        return self.error(400, "Each entry needs a cidrBlock or an ipAddress.");
                    };
                    if !k.access_list.iter().any(|x| x.cidr == cidr) {
                        k.access_list.push(AccessEntry {
                            cidr: cidr.to_owned(),
                            created: Utc::now(),
                            last_used: None,
                            last_used_address: None,
                            count: 0,
                        });
                    }
                }
                let items = k.access_list.iter().map(|e| access_json(e, false)).collect();
                self.paged(req, items, &media)
            }
            ("POST", ["api", "atlas", "v2", "groups", group, "apiKeys", id]) => {
                let roles = req.json();
                let Some(k) = state.api_keys.iter_mut().find(|k| k.id == *id) else {
                    return self.error(404, "API key not found.");
                };
                for r in roles.as_array().into_iter().flatten() {
                    let Some(name) = r["roleName"].as_str().filter(|n| n.starts_with("GROUP_")) else {
                        return self.error_coded(400, "INVALID_ROLE", "A project assignment needs project roles.");
                    };
                    if !k.roles.iter().any(|x| x.name == name && x.group_id.as_deref() == Some(group)) {
                        k.roles.push(Role { name: name.to_owned(), group_id: Some((*group).to_owned()) });
                    }
                }
                let out = self.api_key_json(k, false);
                Reply::typed(200, &media, &out)
            }
            ("POST", ["api", "atlas", "v2", "orgs", o, "serviceAccounts", id, "secrets"]) if *o == org => {
                let hours = req.json()["secretExpiresAfterHours"].as_i64();
                self.create_secret(&mut state, id, hours, &media)
            }
            ("DELETE", ["api", "atlas", "v2", "orgs", o, "serviceAccounts", id, "secrets", secret]) if *o == org => {
                let Some(sa) = state.service_accounts.iter_mut().find(|s| s.client_id == *id) else {
                    return self.error(404, "Service account not found.");
                };
                let before = sa.secrets.len();
                sa.secrets.retain(|s| s.id != *secret);
                if sa.secrets.len() == before {
                    return self.error(404, "Service account secret not found.");
                }
                // Deleting a secret revokes the tokens it made at once.
                let client = sa.client_id.clone();
                state.tokens.retain(|(_, c)| *c != client);
                Reply::empty(204)
            }
            ("DELETE", ["api", "atlas", "v2", "orgs", o, "apiKeys", id]) if *o == org => {
                let before = state.api_keys.len();
                state.api_keys.retain(|k| k.id != *id);
                if state.api_keys.len() == before { self.error(404, "API key not found.") } else { Reply::empty(204) }
            }
            ("GET", ["api", "atlas", "v2", "orgs", _, ..]) => self.error(404, "Organization not found."),
            _ => self.error(404, "Resource not found."),
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        let code = match status {
            400 => "INVALID_PARAMETER",
            401 => "UNAUTHORIZED",
            403 => "USER_UNAUTHORIZED",
            404 => "RESOURCE_NOT_FOUND",
            406 => "INVALID_VERSION_DATE",
            429 => "RATE_LIMITED_TOKEN_BUCKET",
            _ => "UNEXPECTED_ERROR",
        };
        self.error_coded(status, code, message)
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        self.error(429, "Rate limit exceeded.")
            .with_header("Retry-After", seconds.to_string())
            .with_header("RateLimit-Limit", "100")
            .with_header("RateLimit-Remaining", "0")
    }
}
