//! The IAM credential report: the last use of every user's two access keys, and whether the
//! root user has keys, in two or three calls instead of one `GetAccessKeyLastUsed` per key.
//!
//! The report names a user's keys only as slots 1 and 2, not by id, so a key is matched to its
//! slot by creation time (`access_key_N_last_rotated` is when the key in that slot was created).
//! A key the report cannot place for sure — two keys created in the same second, a key newer
//! than the report — is left to `GetAccessKeyLastUsed`. The report is a CSV that AWS builds at
//! most every four hours; it is read as hostile input like any provider answer.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::ReportStateType;
use chrono::{DateTime, Utc};

use super::{classify, to_chrono};
use crate::{ConnectorError, ErrorKind, LastUse};

/// The row AWS writes for the account's root user.
const ROOT: &str = "<root_account>";
/// How many times `GenerateCredentialReport` is asked before giving up on the report.
const POLLS: usize = 30;
/// The most columns a report may have (AWS writes 22).
const MAX_COLUMNS: usize = 64;
/// The largest report read (AWS: one row of ~300 bytes per user, 5,000 users at most by default).
const MAX_BYTES: usize = 64 << 20;

/// One of a user's two access-key slots.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Slot {
    /// When the key in this slot was created (`None`: no key).
    pub(crate) created: Option<DateTime<Utc>>,
    /// Whether it is active.
    pub(crate) active: bool,
    /// Its last use (`None`: never, or no key).
    pub(crate) last_used: Option<LastUse>,
}

/// A parsed report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CredentialReport {
    /// When AWS built it: keys created later are not in it.
    pub(crate) generated_at: DateTime<Utc>,
    users: HashMap<String, [Slot; 2]>,
    /// Users named by more than one row: not placed.
    ambiguous: std::collections::HashSet<String>,
    root: Option<[Slot; 2]>,
    /// The account, from the root row's ARN.
    pub(crate) account_id: Option<String>,
}

/// What the report says of one key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Placed {
    /// Its slot was found: its last use, or `None` for never used.
    Yes(Option<LastUse>),
    /// The report cannot tell which slot is this key's (or has none): ask IAM.
    No,
}

impl CredentialReport {
    /// Whether the root user has an access key (active or not); `None` when the report has no
    /// root row.
    pub(crate) fn root_has_keys(&self) -> Option<bool> {
        self.root.as_ref().map(|slots| slots.iter().any(|s| s.created.is_some() || s.active))
    }

    /// The last use of `user`'s key created at `created`, where `siblings` are the creation
    /// times of the user's other keys.
    pub(crate) fn place(&self, user: &str, created: Option<DateTime<Utc>>, siblings: &[DateTime<Utc>]) -> Placed {
        let (Some(created), Some(slots)) = (created, self.users.get(user)) else { return Placed::No };
        if self.ambiguous.contains(user) {
            return Placed::No;
        }
        let second = created.timestamp();
        if created > self.generated_at || siblings.iter().any(|s| s.timestamp() == second) {
            return Placed::No;
        }
        let mut matching = slots.iter().filter(|s| s.created.is_some_and(|c| c.timestamp() == second));
        match (matching.next(), matching.next()) {
            (Some(slot), None) => Placed::Yes(slot.last_used.clone()),
            _ => Placed::No,
        }
    }
}

/// Why the report could not be used; the sync then reads last use key by key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unusable(pub(crate) String);

/// Generates (or reuses AWS's recent) report and reads it. Permission to generate or read it
/// missing, or a report that does not parse, is [`Unusable`]; other failures are errors.
pub(crate) async fn fetch(client: &Client) -> Result<Result<CredentialReport, Unusable>, ConnectorError> {
    for poll in 0..POLLS {
        let state = match client.generate_credential_report().send().await {
            Ok(out) => out.state().cloned(),
            Err(e) => return usable_or(classify("GenerateCredentialReport", e)),
        };
        if state == Some(ReportStateType::Complete) {
            break;
        }
        if poll + 1 == POLLS {
            return Ok(Err(Unusable(format!("the credential report was not ready after {POLLS} polls"))));
        }
        tokio::time::sleep(Duration::from_millis(if poll < 5 { 200 } else { 2000 })).await;
    }
    let out = match client.get_credential_report().send().await {
        Ok(out) => out,
        Err(e) => return usable_or(classify("GetCredentialReport", e)),
    };
    let Some(generated_at) = out.generated_time().and_then(to_chrono) else {
        return Ok(Err(Unusable("the credential report has no generation time".into())));
    };
    let Some(content) = out.content() else {
        return Ok(Err(Unusable("the credential report is empty".into())));
    };
    if content.as_ref().len() > MAX_BYTES {
        return Ok(Err(Unusable(format!("the credential report is over {} MiB", MAX_BYTES >> 20))));
    }
    let Ok(text) = std::str::from_utf8(content.as_ref()) else {
        return Ok(Err(Unusable("the credential report is not UTF-8".into())));
    };
    Ok(parse(text, generated_at).map_err(Unusable))
}

/// A report that cannot be had (no permission, throttled, expired, still in progress) leaves
/// last use to be read key by key; only credentials refused fail the listing.
fn usable_or(e: ConnectorError) -> Result<Result<CredentialReport, Unusable>, ConnectorError> {
    match e.kind {
        ErrorKind::Unauthenticated => Err(e),
        _ => Ok(Err(Unusable(e.message))),
    }
}

/// Reads the report's CSV, by its header's column names.
pub(crate) fn parse(text: &str, generated_at: DateTime<Utc>) -> Result<CredentialReport, String> {
    let mut rows = text.lines().filter(|l| !l.trim().is_empty()).map(split_csv);
    let header = rows.next().ok_or("the credential report has no header")?;
    if header.len() > MAX_COLUMNS {
        return Err(format!("the credential report has {} columns (at most {MAX_COLUMNS} are read)", header.len()));
    }
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| format!("the credential report has no {name} column"))
    };
    let user = column("user")?;
    let arn = column("arn")?;
    let mut slot_columns = Vec::new();
    for n in 1..=2 {
        slot_columns.push([
            column(&format!("access_key_{n}_active"))?,
            column(&format!("access_key_{n}_last_rotated"))?,
            column(&format!("access_key_{n}_last_used_date"))?,
            column(&format!("access_key_{n}_last_used_service"))?,
            column(&format!("access_key_{n}_last_used_region"))?,
        ]);
    }
    let mut report = CredentialReport {
        generated_at,
        users: HashMap::new(),
        ambiguous: Default::default(),
        root: None,
        account_id: None,
    };
    for (line, row) in rows.enumerate() {
        let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
        if row.len() != header.len() {
            return Err(format!("credential report row {} has {} of {} columns", line + 2, row.len(), header.len()));
        }
        let slots = [0, 1].map(|n| {
            let [active, rotated, used, service, region] = slot_columns[n];
            Slot {
                created: date(cell(rotated)),
                active: cell(active) == "true",
                last_used: date(cell(used)).map(|at| LastUse {
                    at,
                    service: value(cell(service)),
                    region: value(cell(region)),
                }),
            }
        });
        if cell(user) == ROOT {
            report.account_id = super::account_from_arn(cell(arn));
            report.root = Some(slots);
        } else if report.users.insert(cell(user).to_owned(), slots).is_some() {
            // Two rows for one name: neither can be trusted to be that user's.
            report.ambiguous.insert(cell(user).to_owned());
        }
    }
    Ok(report)
}

/// A report date (`2024-05-01T10:00:00+00:00`); `N/A`, `no_information`, `not_supported` and
/// anything else that is not a date are none.
fn date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// A report value, where it is one.
fn value(s: &str) -> Option<String> {
    (!s.is_empty() && !matches!(s, "N/A" | "no_information" | "not_supported")).then(|| s.to_owned())
}

/// One CSV line's fields (RFC 4180 quoting: IAM user names may hold a comma), at most one more
/// than [`MAX_COLUMNS`]: a line of a million commas is refused, not split.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) if fields.len() > MAX_COLUMNS => break,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
        password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
        access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
        access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
        cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn report(rows: &[&str]) -> CredentialReport {
        let text = format!("{HEADER}\n{}\n", rows.join("\n"));
        parse(&text, at("2026-06-01T00:00:00+00:00")).unwrap()
    }

    // Rows as AWS documents them (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html).
    const ROOT_ROW: &str = "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,\
        2026-05-01T00:00:00+00:00,not_supported,not_supported,true,false,2021-02-03T04:05:06+00:00,N/A,N/A,N/A,false,N/A,\
        N/A,N/A,N/A,false,N/A,false,N/A";
    const ANA: &str = "ana,arn:aws:iam::123456789012:user/ana,2020-01-01T00:00:00+00:00,true,no_information,\
        2020-01-01T00:00:00+00:00,N/A,false,true,2024-03-01T10:00:00+00:00,2026-05-30T08:00:00+00:00,eu-west-1,s3,\
        false,2024-03-02T10:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A";

    #[test]
    fn keys_are_placed_by_their_creation_second() {
        let r = report(&[ROOT_ROW, ANA]);
        let used = r.place("ana", Some(at("2024-03-01T10:00:00.400+00:00")), &[at("2024-03-02T10:00:00Z")]);
        assert_eq!(
            used,
            Placed::Yes(Some(LastUse {
                at: at("2026-05-30T08:00:00Z"),
                service: Some("s3".into()),
                region: Some("eu-west-1".into())
            }))
        );
        assert_eq!(r.place("ana", Some(at("2024-03-02T10:00:00Z")), &[]), Placed::Yes(None), "N/A: never used");
        assert_eq!(r.root_has_keys(), Some(true), "an inactive root key is still a key");
        assert_eq!(r.account_id.as_deref(), Some("123456789012"));
    }

    #[test]
    fn what_the_report_cannot_place_is_left_to_iam() {
        let r = report(&[ANA]);
        // Newer than the report, unknown user, no creation time, no slot of that second.
        assert_eq!(r.place("ana", Some(at("2026-06-02T00:00:00Z")), &[]), Placed::No);
        assert_eq!(r.place("bob", Some(at("2024-03-01T10:00:00Z")), &[]), Placed::No);
        assert_eq!(r.place("ana", None, &[]), Placed::No);
        assert_eq!(r.place("ana", Some(at("2024-03-05T10:00:00Z")), &[]), Placed::No);
        // Two keys of the same second: which slot is whose cannot be told.
        let t = at("2024-03-01T10:00:00Z");
        assert_eq!(r.place("ana", Some(t), &[t]), Placed::No);
        let same = ANA.replace("2024-03-02T10:00:00+00:00", "2024-03-01T10:00:00+00:00");
        assert_eq!(report(&[&same]).place("ana", Some(t), &[]), Placed::No);
        assert_eq!(r.root_has_keys(), None, "no root row: unknown");
    }

    #[test]
    fn quoted_names_and_hostile_reports() {
        let quoted = ANA.replacen("ana,", "\"a,\"\"na\",", 1);
        let r = report(&[&quoted]);
        assert!(matches!(r.place("a,\"na", Some(at("2024-03-01T10:00:00Z")), &[]), Placed::Yes(Some(_))));
        assert!(parse("", Utc::now()).unwrap_err().contains("no header"));
        assert!(parse("user,arn\nana,x\n", Utc::now()).unwrap_err().contains("access_key_1_active"));
        let short = format!("{HEADER}\nana,arn\n");
        assert!(parse(&short, Utc::now()).unwrap_err().contains("row 2 has 2 of 22"));
        // An unquoted comma in a name would shift every column after it: refused, not misread.
        let shifted = ANA.replacen("ana,", "ana,,", 1);
        assert!(parse(&format!("{HEADER}\n{shifted}\n"), Utc::now()).unwrap_err().contains("23 of 22"));
        assert!(parse(&",".repeat(1 << 20), Utc::now()).unwrap_err().contains("columns"));
        // Two rows for one user: neither is trusted.
        assert_eq!(report(&[ANA, ANA]).place("ana", Some(at("2024-03-01T10:00:00Z")), &[]), Placed::No);
        // Dates that are not dates are none, never a panic.
        let odd = ANA.replace("2026-05-30T08:00:00+00:00", "9999-99-99T99:99:99+99:99");
        assert_eq!(report(&[&odd]).place("ana", Some(at("2024-03-01T10:00:00Z")), &[]), Placed::Yes(None));
    }
}
