//! The IAM connector against a scripted IAM endpoint, for what moto cannot show: moto ignores
//! `MaxItems` and never pages, and never throttles. This fake speaks IAM's query protocol
//! (form-encoded POST, XML answers), pages every list one item at a time, and can answer with
//! IAM's throttling and access-denied errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};

use keyward_connectors::aws::{AwsIam, AwsSettings};
use keyward_connectors::{ErrorKind, KeyStatus};
use support::{Reply, Request};

mod support;

#[derive(Default)]
struct Script {
    /// Requests seen, as "Action Marker".
    log: Vec<String>,
    /// Errors to answer before serving an action: action → (status, code), consumed one by one.
    fail: HashMap<String, Vec<(u16, &'static str)>>,
}

type Shared = Arc<Mutex<Script>>;

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const USERS: &[&str] = &["ana", "bob", "cyd"];
/// Whether GenerateCredentialReport was asked before (shared by the tests of this binary: each
/// test still sees the report ready after at most one poll).
static REPORT_ASKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let d =
                |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
        .collect()
}

fn user_xml(name: &str) -> String {
    format!(
        "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDA{name}</UserId>\
         <Arn>arn:aws:iam::210987654321:user/{name}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
    )
}

/// One page of `items` (one item per page); the marker is the index of the next item.
fn page(action: &str, list: &str, items: &[String], marker: Option<&str>) -> String {
    let i: usize = marker.and_then(|m| m.parse().ok()).unwrap_or(0);
    let members = items.get(i).cloned().unwrap_or_default();
    let more = i + 1 < items.len();
    let next = if more { format!("<Marker>{}</Marker>", i + 1) } else { String::new() };
    format!(
        "<{action}Response xmlns=\"{NS}\"><{action}Result><{list}>{members}</{list}><IsTruncated>{more}</IsTruncated>{next}\
         </{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn answer(params: &HashMap<String, String>) -> String {
    let action = params.get("Action").map(String::as_str).unwrap_or("");
    let marker = params.get("Marker").map(String::as_str);
    let user = params.get("UserName").cloned().unwrap_or_default();
    match action {
        "ListAccessKeys" => {
            // bob has two keys (two pages), the others one.
            let n = if user == "bob" { 2 } else { 1 };
            let keys: Vec<String> = (0..n)
                .map(|i| {
                    let status = if i == 1 { "Inactive" } else { "Active" };
                    format!(
                        "<member><UserName>{user}</UserName><AccessKeyId>AKIA{}{i}</AccessKeyId><Status>{status}</Status>\
                         <CreateDate>2024-03-0{}T10:00:00Z</CreateDate></member>",
                        user.to_uppercase(),
                        i + 1
                    )
                })
                .collect();
            page(action, "AccessKeyMetadata", &keys, marker)
        }
        "GetAccessKeyLastUsed" => {
            let id = params.get("AccessKeyId").cloned().unwrap_or_default();
            let used = if id.starts_with("AKIAANA") {
                "<LastUsedDate>2025-01-02T03:04:05Z</LastUsedDate><ServiceName>s3</ServiceName><Region>eu-west-1</Region>"
            } else {
                "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
            };
            format!(
                "<GetAccessKeyLastUsedResponse xmlns=\"{NS}\"><GetAccessKeyLastUsedResult><UserName>x</UserName>\
                 <AccessKeyLastUsed>{used}</AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
                 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccessKeyLastUsedResponse>"
            )
        }
        "GetAccountAuthorizationDetails" => {
            // One user per page; cyd holds AdministratorAccess and ReadOnlyAccess.
            let details: Vec<String> = USERS
                .iter()
                .map(|u| {
                    let attached = if *u == "cyd" {
                        "<member><PolicyName>AdministratorAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member>\
                         <member><PolicyName>ReadOnlyAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member>"
                    } else {
                        ""
                    };
                    user_xml(u).replace("</member>", &format!("<AttachedManagedPolicies>{attached}</AttachedManagedPolicies></member>"))
                })
                .collect();
            page(action, "UserDetailList", &details, marker)
        }
        "GenerateCredentialReport" => {
            // AWS answers STARTED until the report is built; this fake, the first time.
            let state =
                if REPORT_ASKED.swap(true, std::sync::atomic::Ordering::Relaxed) { "COMPLETE" } else { "STARTED" };
            format!(
                "<GenerateCredentialReportResponse xmlns=\"{NS}\"><GenerateCredentialReportResult><State>{state}</State>\
                 </GenerateCredentialReportResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GenerateCredentialReportResponse>"
            )
        }
        "GetCredentialReport" => {
            use base64::Engine as _;
            // Built 2024-03-01 at noon: bob's second key (03-02) is newer, so the report cannot
            // tell its last use.
            let csv = "user,arn,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
                 access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
                 access_key_2_last_used_region,access_key_2_last_used_service\n\
                 <root_account>,arn:aws:iam::210987654321:root,false,2019-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A\n\
                 ana,arn:aws:iam::210987654321:user/ana,true,2024-03-01T10:00:00+00:00,2025-01-02T03:04:05+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A\n\
                 bob,arn:aws:iam::210987654321:user/bob,true,2024-03-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A\n\
                 cyd,arn:aws:iam::210987654321:user/cyd,true,2024-03-01T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A\n";
            format!(
                "<GetCredentialReportResponse xmlns=\"{NS}\"><GetCredentialReportResult><Content>{}</Content>\
                 <ReportFormat>text/csv</ReportFormat><GeneratedTime>2024-03-01T12:00:00Z</GeneratedTime></GetCredentialReportResult>\
                 <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCredentialReportResponse>",
                base64::engine::general_purpose::STANDARD.encode(csv)
            )
        }
        "GetAccountSummary" => format!(
            "<GetAccountSummaryResponse xmlns=\"{NS}\"><GetAccountSummaryResult><SummaryMap>\
             <entry><key>AccountAccessKeysPresent</key><value>1</value></entry><entry><key>Users</key><value>3</value></entry>\
             </SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccountSummaryResponse>"
        ),
        other => panic!("the fake does not serve {other}"),
    }
}

fn error_xml(code: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} from the fake</Message></Error>\
         <RequestId>r</RequestId></ErrorResponse>"
    )
}

async fn serve(script: Shared) -> String {
    support::serve(Arc::new(move |req: &Request| {
        let params = form(&String::from_utf8_lossy(&req.body));
        let action = params.get("Action").cloned().unwrap_or_default();
        let mut s = script.lock().unwrap();
        s.log.push(format!("{action} {}", params.get("Marker").cloned().unwrap_or_default()).trim().to_owned());
        match s.fail.get_mut(&action).and_then(|f| (!f.is_empty()).then(|| f.remove(0))) {
            Some((status, code)) => Reply::text(status, "text/xml", &error_xml(code)),
            None => Reply::text(200, "text/xml", &answer(&params)),
        }
    }))
    .await
}

static ENV: Once = Once::new();

async fn connect(endpoint: &str) -> AwsIam {
    ENV.call_once(|| {
        // SAFETY: set once, before any test in this binary builds an SDK config (they all wait
        // on this Once first), so no other thread reads the environment concurrently.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "fake/secret");
            std::env::set_var("AWS_CONFIG_FILE", "/nonexistent");
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
    AwsIam::connect(&AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        concurrency: 2,
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn every_list_is_followed_across_pages() {
    let script = Shared::default();
    let iam = connect(&serve(script.clone()).await).await;
    let progress = Mutex::new(Vec::new());
    let inv = iam.inventory(&|p| progress.lock().unwrap().push((p.done, p.total))).await.unwrap();

    let ids: Vec<&str> = inv.keys.iter().map(|k| k.external_id.as_str()).collect();
    assert_eq!(ids, ["AKIAANA0", "AKIABOB0", "AKIABOB1", "AKIACYD0"]);
    let log = script.lock().unwrap().log.clone();
    assert!(
        log.contains(&"GetAccountAuthorizationDetails 1".to_owned())
            && log.contains(&"GetAccountAuthorizationDetails 2".to_owned()),
        "{log:?}"
    );
    assert!(log.contains(&"ListAccessKeys 1".to_owned()), "bob's second key is on page two: {log:?}");
    // Only the key newer than the report is asked about one by one; no per-user policy calls.
    let asked: Vec<&String> = log.iter().filter(|l| l.starts_with("GetAccessKeyLastUsed")).collect();
    assert_eq!(asked.len(), 1, "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("ListAttachedUserPolicies") || l.starts_with("ListUsers")), "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("GetAccountSummary")), "the report's root row tells: {log:?}");
    // Every request is counted, by operation.
    assert_eq!(inv.calls.total() as usize, log.len(), "{:?} against {log:?}", inv.calls);
    assert_eq!(inv.calls.0.get("iam:ListAccessKeys"), Some(&4), "{:?}", inv.calls);

    let ana = &inv.keys[0];
    assert_eq!(ana.owner.as_deref(), Some("ana"));
    assert_eq!(ana.status, KeyStatus::Active);
    assert_eq!(ana.created_at.unwrap().to_rfc3339(), "2024-03-01T10:00:00+00:00");
    let used = ana.last_used.as_ref().unwrap();
    assert_eq!((used.service.as_deref(), used.region.as_deref()), (Some("s3"), Some("eu-west-1")));
    assert!(inv.keys[1].last_used.is_none(), "N/A means never used");
    assert_eq!(inv.keys[2].status, KeyStatus::Inactive);

    let admin: Vec<_> = inv.owners.iter().filter(|o| o.admin_via.is_some()).map(|o| o.name.as_str()).collect();
    assert_eq!(admin, ["cyd"]);
    assert_eq!(inv.keys[3].scopes, ["policy:AdministratorAccess", "policy:ReadOnlyAccess"]);
    assert_eq!(inv.root_access_key, Some(true), "an inactive root key is a key");
    assert_eq!(inv.account_id.as_deref(), Some("210987654321"));
    assert_eq!(progress.lock().unwrap().last(), Some(&(3, Some(3))));
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let script = Shared::default();
    script
        .lock()
        .unwrap()
        .fail
        .insert("GetAccountAuthorizationDetails".into(), vec![(400, "Throttling"), (400, "Throttling")]);
    let iam = connect(&serve(script.clone()).await).await;
    let inv = iam.inventory(&|_| {}).await.unwrap();
    assert_eq!(inv.keys.len(), 4);
    let first_pages = script.lock().unwrap().log.iter().filter(|l| *l == "GetAccountAuthorizationDetails").count();
    assert_eq!(first_pages, 3, "two throttled attempts, then success");
    assert_eq!(inv.calls.0.get("iam:GetAccountAuthorizationDetails"), Some(&5), "retries are counted too");
}

#[tokio::test]
async fn access_denied_is_classified_and_names_the_call() {
    let script = Shared::default();
    script.lock().unwrap().fail.insert("ListAccessKeys".into(), vec![(403, "AccessDenied")]);
    let iam = connect(&serve(script).await).await;
    let err = iam.inventory(&|_| {}).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("ListAccessKeys failed: AccessDenied"), "{err}");
    assert!(!err.to_string().contains("fake/secret"));
}

#[tokio::test]
async fn rejected_credentials_are_unauthenticated() {
    let script = Shared::default();
    script.lock().unwrap().fail.insert("GetAccountAuthorizationDetails".into(), vec![(403, "InvalidClientTokenId")]);
    let iam = connect(&serve(script).await).await;
    let err = iam.inventory(&|_| {}).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn without_the_credential_report_last_use_is_read_key_by_key() {
    let script = Shared::default();
    script.lock().unwrap().fail.insert("GenerateCredentialReport".into(), vec![(403, "AccessDenied")]);
    let iam = connect(&serve(script.clone()).await).await;
    let inv = iam.inventory(&|_| {}).await.unwrap();
    let used = inv.keys[0].last_used.as_ref().expect("ana's key was used");
    assert_eq!(used.service.as_deref(), Some("s3"));
    let log = script.lock().unwrap().log.clone();
    assert_eq!(log.iter().filter(|l| l.starts_with("GetAccessKeyLastUsed")).count(), 4, "{log:?}");
    assert!(log.iter().any(|l| l == "GetAccountSummary"), "root's keys from the summary instead: {log:?}");
    assert_eq!(inv.facts["last_use"]["from"], "GetAccessKeyLastUsed, key by key");
    assert!(inv.facts["last_use"]["why"].as_str().unwrap().contains("AccessDenied"), "{}", inv.facts);
}
