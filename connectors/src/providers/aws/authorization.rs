//! Every user's policies and groups, and the documents that make someone an administrator, from
//! `GetAccountAuthorizationDetails` — a few pages for the whole account instead of four to
//! six calls per user. Judged locally exactly as the per-user calls were: AWS's
//! `AdministratorAccess`, or an attached customer policy, inline policy or group policy whose
//! document allows `*` on `*`.

use std::collections::HashMap;

use aws_sdk_iam::types::{EntityType, GroupDetail, UserDetail};

use super::{AwsIam, Policies, classify, document_allows_all, inline_reason};
use crate::ConnectorError;

/// The account's users and groups as IAM describes them.
pub(crate) struct Authorization {
    /// Every user, in IAM's order.
    pub(crate) users: Vec<UserDetail>,
    groups: HashMap<String, GroupDetail>,
}

impl AwsIam {
    /// Reads every page of users, groups and customer-managed policies. The policies' default
    /// documents fill the policy cache, so judging a user calls IAM only for a policy or group
    /// the pages did not describe.
    pub(crate) async fn authorization(&self) -> Result<Authorization, ConnectorError> {
        let pages: Vec<_> = self
            .client
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("GetAccountAuthorizationDetails", e))?;
        let mut users = Vec::new();
        let mut groups = HashMap::new();
        let mut managed = self.managed.lock().expect("policy cache poisoned");
        for page in pages {
            users.extend(page.user_detail_list().iter().cloned());
            for group in page.group_detail_list() {
                if let Some(name) = group.group_name() {
                    groups.insert(name.to_owned(), group.clone());
                }
            }
            for policy in page.policies() {
                let Some(arn) = policy.arn() else { continue };
                let default = policy.default_version_id();
                let document = policy
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version() || (default.is_some() && v.version_id() == default))
                    .and_then(|v| v.document());
                managed.insert(arn.to_owned(), document.is_some_and(document_allows_all));
            }
        }
        Ok(Authorization { users, groups })
    }

    /// Why `user` is an administrator (if so), and their policies as scopes plus the raw
    /// listing: attached policies, then inline ones, then groups, as the per-user calls gave them.
    pub(crate) async fn grants(
        &self,
        account: &Authorization,
        user: &UserDetail,
    ) -> Result<(Option<String>, Policies), ConnectorError> {
        let mut reasons = Vec::new();
        let mut policies = Policies::default();
        let attached = user.attached_managed_policies();
        for policy in attached {
            let (name, arn) = (policy.policy_name().unwrap_or_default(), policy.policy_arn().unwrap_or_default());
            policies.push(format!("policy:{name}"), serde_json::json!({"type": "attached", "name": name, "arn": arn}));
        }
        reasons.extend(self.attached_reasons(attached).await?);
        for inline in user.user_policy_list() {
            let name = inline.policy_name().unwrap_or_default();
            policies.push(format!("inline:{name}"), serde_json::json!({"type": "inline", "name": name}));
            reasons.extend(inline_reason(name, inline.policy_document().unwrap_or_default()));
        }
        for name in user.group_list() {
            policies.push(format!("group:{name}"), serde_json::json!({"type": "group", "name": name}));
            let why = match account.groups.get(name) {
                Some(group) => self.group_reasons(group).await?,
                None => self.group_admin_via(name).await?,
            };
            if let Some(why) = why {
                reasons.push(format!("group {name}: {why}"));
            }
        }
        Ok(((!reasons.is_empty()).then(|| reasons.join("; ")), policies))
    }

    /// Why a group described by the pages grants administrator access, if it does.
    async fn group_reasons(&self, group: &GroupDetail) -> Result<Option<String>, ConnectorError> {
        let mut reasons = self.attached_reasons(group.attached_managed_policies()).await?;
        for inline in group.group_policy_list() {
            let name = inline.policy_name().unwrap_or_default();
            reasons.extend(inline_reason(name, inline.policy_document().unwrap_or_default()));
        }
        Ok((!reasons.is_empty()).then(|| reasons.join(", ")))
    }
}
