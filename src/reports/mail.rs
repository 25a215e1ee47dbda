//! A company's report as mail: rendered with the `report` template, its chart shown in place
//! in the HTML, the files attached, one mail per recipient through the outbox (in the caller's
//! transaction).

use crate::agents::reply_address;
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::outbound::{Composed, InlineImage, MailError, content_id, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::company;
use crate::templates::{Audience, Templates};

use super::CompanyReport;

/// Where the company's CRM answers mail we send them so that a `#report` is verified as
/// theirs: the support address with the company's token, when replies are verified by token.
pub fn report_reply_to(config: &Config, c: &company::Model) -> Option<EmailAddress> {
    let token = c.report_token.as_deref().filter(|_| config.agent_desk.verify.uses_token())?;
    Some(reply_address(config.support_address(), token))
}

/// Queues `report` to each of `to`; how many mails. Each mail is rendered for itself: its
/// chart's Content-ID comes from its own Message-ID.
pub async fn queue_report(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    c: &company::Model,
    report: &CompanyReport,
    to: &[(Option<&str>, &EmailAddress)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, MailError> {
    let support = config.support_address();
    // The CRM's and CSM's copies carry the company's token, so a `#report` they send back
    // by replying is verified as theirs.
    let theirs = config.company(&c.slug).map(|cc| [cc.crm_email.clone(), cc.csm_email.clone()]);
    let is_theirs = |a: &EmailAddress| theirs.iter().flatten().flatten().any(|t| t == a);
    let token_reply = report_reply_to(config, c);
    let mut context = report.context.clone();
    for recipient in to {
        let reply_to = match &token_reply {
            Some(token) if is_theirs(recipient.1) => token,
            _ => support,
        };
        let message_id = new_message_id("report", None, support.domain());
        context.chart_cid = content_id("chart", &message_id);
        let audience = Audience { company_slug: Some(&c.slug), mailbox: None };
        let rendered = templates.render("report", audience, &context)?;
        let chart = [InlineImage { content_id: &context.chart_cid, file: &report.chart }];
        let from = (config.outbound.from_name.as_deref(), support);
        let mail = Composed {
            attachments: &report.attachments,
            inline_images: &chart,
            ..Composed::notice(from, reply_to, vec![*recipient], &message_id, &rendered)
        };
        queue_mail(txn, "report", None, &mail, now).await?;
    }
    Ok(to.len())
}

/// Records in the ledger that `kind` (`monthly`, `request`) went to the company for `period`
/// (a month's key, or the request's dedup key); false when it was recorded before, by this
/// process or another one at the same moment: then it must not go again.
pub async fn record_sent(
    txn: &Tx,
    company_id: i64,
    kind: &str,
    period: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sea_orm::DbErr> {
    use sea_orm::{EntityTrait, Set};

    use crate::storage::entities::report_sent;
    let row = report_sent::ActiveModel {
        company_id: Set(company_id),
        kind: Set(kind.to_owned()),
        period: Set(period.to_owned()),
        sent_at: Set(now),
        ..Default::default()
    };
    let inserted = report_sent::Entity::insert(row)
        .on_conflict_do_nothing_on([
            report_sent::Column::CompanyId,
            report_sent::Column::Kind,
            report_sent::Column::Period,
        ])
        .exec_without_returning(txn)
        .await?;
    Ok(crate::storage::inserted(&inserted))
}
