//! The SQL order and sections against the same judgement made in Rust, over every
//! combination of an open case's facts, and pages walked to the end.

use chrono::TimeZone;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, EntityTrait, IntoActiveModel};

use super::*;
use crate::domain::{CaseType, Channel, Priority, Severity};
use crate::sla::{CaseClocks, TargetFacts, target_view};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    // A Monday: office hours run 09:00 to 17:00 UTC.
    Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap()
}

/// An open case, with the warnings sent for each target's current due time.
struct Facts {
    clocks: CaseClocks,
    warned: [bool; 2],
}

fn every_open_case() -> Vec<Facts> {
    let mut out = Vec::new();
    for status in OPEN {
        for first_response_due in [None, Some(at(12, 0)), Some(at(12, 30))] {
            for first_response_at in [None, Some(at(11, 0)), Some(at(13, 0))] {
                for resolution_due in [None, Some(at(15, 0))] {
                    for paused_since in [None, Some(at(14, 0)), Some(at(16, 0))] {
                        for warned in [[false, false], [true, false], [false, true], [true, true]] {
                            let clocks = CaseClocks {
                                status,
                                first_response_due,
                                first_response_at,
                                resolution_due,
                                paused_since,
                                resolved_at: None,
                                closed_at: None,
                            };
                            out.push(Facts { clocks, warned });
                        }
                    }
                }
            }
        }
    }
    out
}

fn row(id: i64, c: &CaseClocks) -> case::ActiveModel {
    case::Model {
        id,
        number: CaseNumber::new(id as u64).unwrap(),
        company_id: None,
        contact_id: None,
        mailbox: "support".into(),
        channel: Channel::Email,
        summary: "facts".into(),
        case_type: CaseType::Query,
        severity: Severity::S3,
        priority: Priority::Normal,
        status: c.status,
        error_category: None,
        client_config: false,
        assignee_id: (id % 3 != 0).then_some(id % 3),
        created_at: at(9, 0),
        updated_at: at(9, 0),
        sla_started_at: at(9, 0),
        first_response_at: c.first_response_at,
        first_response_due: c.first_response_due,
        resolution_due: c.resolution_due,
        next_alert_at: None,
        paused_since: c.paused_since,
        paused_seconds: 0,
        resolved_at: None,
        closed_at: None,
        solution: None,
        linked_case_id: None,
        opened_because: None,
    }
    .into_active_model()
}

/// A warning for the due time when `warned`; else one for an earlier due time (the target
/// was re-graded since). A breach alert never makes a target warned.
fn alerts(case_id: i64, target: TargetKind, due: DateTime<Utc>, warned: bool) -> Vec<alert_sent::ActiveModel> {
    let alert = |level: &str, due_at| alert_sent::Model {
        id: 0,
        case_id,
        target: target.as_str().into(),
        level: level.into(),
        due_at,
        outbox_id: None,
        sent_at: at(9, 0),
    };
    let warning = if warned { alert("75%", due) } else { alert("75%", due - chrono::Duration::hours(1)) };
    [warning, alert("breach", due)]
        .into_iter()
        .map(|a| {
            let mut a = a.into_active_model();
            a.id = sea_orm::ActiveValue::NotSet;
            a
        })
        .collect()
}

async fn desk(facts: &[Facts]) -> DatabaseConnection {
    let mut opts = ConnectOptions::new("sqlite::memory:");
    opts.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None).sqlx_logging(false);
    let db = Database::connect(opts).await.unwrap();
    fill(&db, facts).await;
    db
}

async fn fill(db: &DatabaseConnection, facts: &[Facts]) {
    crate::storage::migrate(db).await.unwrap();
    let rows: Vec<_> = facts.iter().enumerate().map(|(i, f)| row(i as i64 + 1, &f.clocks)).collect();
    for chunk in rows.chunks(200) {
        case::Entity::insert_many(chunk.to_vec()).exec(db).await.unwrap();
    }
    let mut sent = Vec::new();
    for (i, f) in facts.iter().enumerate() {
        let id = i as i64 + 1;
        if let Some(due) = f.clocks.first_response_due {
            sent.extend(alerts(id, TargetKind::Respond, due, f.warned[0]));
        }
        if let Some(due) = f.clocks.resolution_due {
            sent.extend(alerts(id, TargetKind::Resolve, due, f.warned[1]));
        }
    }
    for chunk in sent.chunks(200) {
        alert_sent::Entity::insert_many(chunk.to_vec()).exec(db).await.unwrap();
    }
}

/// What the live view shows of a case, judged in Rust: its targets' views.
fn views(cal: &BusinessCalendar, f: &Facts, now: DateTime<Utc>) -> Vec<TargetView> {
    let with = |t: Option<TargetFacts>, warned: bool| t.map(|t| TargetFacts { warned, ..t });
    [with(f.clocks.respond(), f.warned[0]), with(f.clocks.resolve(), f.warned[1])]
        .into_iter()
        .flatten()
        .map(|t| target_view(cal, &t, now))
        .collect()
}

/// (rank, due, breached, at risk) as the pages judged them before the order moved to SQL.
fn judged(targets: &[TargetView]) -> (i32, Option<DateTime<Utc>>, bool, bool) {
    let rank = targets.iter().map(rank).min().unwrap_or(3);
    let due = targets.iter().filter(|t| rank < 3 && super::rank(t) == rank).map(|t| t.due).min();
    let soon = targets.iter().any(|t| super::rank(t) == 2 && t.business_minutes_left <= SOON_MINUTES);
    (rank, due, rank == 0, rank == 1 || (rank == 2 && soon))
}

#[tokio::test]
async fn the_sql_order_and_sections_are_the_rust_judgement_for_every_open_case() {
    let facts = every_open_case();
    let db = desk(&facts).await;
    judge_every_open_case(&db, &facts).await;
}

/// The same on PostgreSQL, when a server answers (`SUPPORTD_TEST_PG`, else 127.0.0.1:5432):
/// both databases order, page and count alike.
#[tokio::test]
async fn postgresql_orders_pages_and_counts_alike() {
    let server = std::env::var("SUPPORTD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let Ok(admin) = Database::connect(format!("{server}/postgres")).await else {
        eprintln!("no PostgreSQL at {server}: only SQLite was judged");
        return;
    };
    let name = format!("supportd_urgency_{}", std::process::id());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let db = Database::connect(format!("{server}/{name}")).await.unwrap();
    let facts = every_open_case();
    fill(&db, &facts).await;
    judge_every_open_case(&db, &facts).await;
    db.close().await.ok();
    admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.ok();
}

async fn judge_every_open_case(db: &DatabaseConnection, facts: &[Facts]) {
    let cal = BusinessCalendar::office_hours(chrono_tz::UTC);
    for now in [at(10, 0), at(11, 0), at(12, 0), at(12, 15), at(13, 0), at(15, 0), at(17, 0)] {
        let sql: Vec<(i64, i32, Option<DateTime<Utc>>)> = db
            .query_all(
                Query::select()
                    .columns([Alias::new("id"), Alias::new("urgency_rank"), Alias::new("urgency_due")])
                    .from_subquery(ranked(now, Section::Open), Alias::new("u"))
                    .order_by(Alias::new("id"), Order::Asc),
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get("", "id").unwrap(),
                    r.try_get("", "urgency_rank").unwrap(),
                    r.try_get("", "urgency_due").unwrap(),
                )
            })
            .collect();
        assert_eq!(sql.len(), facts.len());
        let mut want_order = Vec::new();
        let (mut breached, mut at_risk) = (Vec::new(), Vec::new());
        for ((id, rank, due), f) in sql.iter().zip(facts) {
            let (want_rank, want_due, is_breached, is_at_risk) = judged(&views(&cal, f, now));
            let due = due.filter(|_| *rank < 3);
            assert_eq!((*rank, due), (want_rank, want_due), "case {id} at {now}: {:?} warned {:?}", f.clocks, f.warned);
            want_order.push((want_rank, want_due, *id));
            if is_breached {
                breached.push(*id);
            }
            if is_at_risk {
                at_risk.push(*id);
            }
        }
        want_order.sort();
        let order: Vec<i64> = want_order.iter().map(|(_, _, id)| *id).collect();
        let in_order = |ids: &[i64]| order.iter().copied().filter(|id| ids.contains(id)).collect::<Vec<_>>();
        let lists = [
            (Section::Open, order.clone()),
            (Section::Breached, in_order(&breached)),
            (Section::AtRisk, in_order(&at_risk)),
        ];
        assert_eq!(walk(db, &cal, now, Section::Open, 7).await, order, "at {now}");
        assert_eq!(walk(db, &cal, now, Section::Breached, 5).await, lists[1].1, "at {now}");
        assert_eq!(walk(db, &cal, now, Section::AtRisk, 4).await, lists[2].1, "at {now}");
        let queue: Vec<i64> = order.iter().copied().filter(|id| id % 3 == 0).collect();
        assert_eq!(walk(db, &cal, now, Section::Queue(None), 6).await, queue, "unassigned at {now}");
        let counts = section_counts(db, &cal, now).await.unwrap();
        let want =
            SectionCounts { open: facts.len() as i64, breached: breached.len() as i64, at_risk: at_risk.len() as i64 };
        assert_eq!(counts, want, "at {now}");
        // The live view's one statement: the same counts, and each list's first page as
        // `urgent_page` gives it, its cursor included.
        for limit in [4, 50, 2000] {
            let live = live_sections(db, &cal, now, limit).await.unwrap();
            assert_eq!(live.counts, want, "at {now}");
            for ((section, ids), page) in lists.iter().zip([&live.open, &live.breached, &live.at_risk]) {
                let first = urgent_page(db, &cal, now, *section, None, limit).await.unwrap();
                let shown: Vec<i64> = page.cases.iter().map(|c| c.id).collect();
                assert_eq!(shown, ids.iter().copied().take(limit as usize).collect::<Vec<_>>(), "{section:?} at {now}");
                assert_eq!(shown, first.cases.iter().map(|c| c.id).collect::<Vec<_>>(), "{section:?} at {now}");
                assert_eq!(page.next, first.next, "{section:?} at {now}, {limit} a page");
            }
        }
        if now >= at(12, 15) {
            assert!(counts.breached > 0, "the facts hold breached cases at {now}");
        }
        if now <= at(13, 0) {
            assert!(counts.at_risk > 0 && counts.at_risk < counts.open, "and cases at risk at {now}");
        }
    }
}

/// Every page of `section`, `limit` at a time, by the cursors the pages give.
async fn walk(
    db: &DatabaseConnection,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
    section: Section,
    limit: u64,
) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = urgent_page(db, cal, now, section, after, limit).await.unwrap();
        assert!(page.cases.len() as u64 <= limit);
        ids.extend(page.cases.iter().map(|c| c.id));
        // Through the cursor's text, as the "more" link carries it.
        match page.next {
            Some(next) => after = Some(next.to_string().parse().unwrap()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn an_empty_desk_has_no_pages_and_counts_nought() {
    let db = desk(&[]).await;
    let cal = BusinessCalendar::office_hours(chrono_tz::UTC);
    let page = urgent_page(&db, &cal, at(10, 0), Section::Open, None, 3).await.unwrap();
    assert!(page.cases.is_empty() && page.next.is_none());
    assert_eq!(section_counts(&db, &cal, at(10, 0)).await.unwrap(), SectionCounts::default());
    let live = live_sections(&db, &cal, at(10, 0), 3).await.unwrap();
    assert_eq!(live.counts, SectionCounts::default());
    for page in [live.breached, live.at_risk, live.open] {
        assert!(page.cases.is_empty() && page.next.is_none());
    }
}

#[test]
fn a_cursor_reads_back_as_itself_and_nothing_else_is_one() {
    let number = CaseNumber::new(123).unwrap();
    for c in [
        Cursor { rank: 0, due: Some(at(12, 0)), number },
        Cursor { rank: 2, due: Some(at(12, 0) + chrono::Duration::nanoseconds(500_123)), number },
        Cursor { rank: 3, due: None, number },
    ] {
        assert_eq!(c.to_string().parse::<Cursor>(), Ok(c), "{c}");
    }
    assert_eq!(Cursor { rank: 3, due: None, number }.to_string(), "3__000123");
    assert_eq!(Cursor { rank: 1, due: Some(at(12, 0)), number }.to_string(), "1_2026-12-07T12:00:00Z_000123");
    for bad in [
        "",
        "000123",
        "4__000123",
        "3_2026-12-07T12:00:00Z_000123",
        "1__000123",
        "1_yesterday_000123",
        "1_2026-12-07T12:00:00Z_x",
        "0_2026-12-07T12:00:00Z_000123_",
    ] {
        assert!(bad.parse::<Cursor>().is_err(), "{bad}");
    }
}
