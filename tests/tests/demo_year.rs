//! `serve --demo --demo-year` plays the seed plan's year into an empty database: every item has
//! tasks, submissions and a light that tells a story, as of dates in 2014 and today; a second
//! start adds nothing.

use anyhow::ensure;
use chrono::NaiveDate;
use e2e::sync_client::Session;
use e2e::{Server, ServerOptions};
use shared::status::{Light, status_of_item};

#[tokio::test]
async fn the_demo_year_is_played_once_and_tells_a_story() -> anyhow::Result<()> {
    let opts = || ServerOptions {
        args: vec!["--demo-year".into()],
        ..Default::default()
    };
    let server = Server::start(opts()).await?;
    let office = Session::login(&server, "office").await?;
    let state = office.server_view().await?;
    let tasks = state.tasks().count();
    ensure!(tasks == 14 * 4, "four tasks per item, got {tasks}");
    ensure!(
        state
            .submissions()
            .filter(|s| !s.versions.is_empty())
            .count()
            == 14 * 3 - 1,
        "every work plan and report is in but item 9's annual report"
    );
    ensure!(
        state.bulletins().any(|b| b.published),
        "a published bulletin"
    );
    let light = |n: u32, y, m, d| {
        let item = state
            .items()
            .into_iter()
            .find(|i| i.number == n)
            .map(|i| i.id);
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        item.map(|i| status_of_item(&state, i, date).light)
    };
    // Item 1 runs on schedule all year; item 9 stalls; item 7's work plan was late on 1 April.
    ensure!(
        light(1, 2014, 7, 15) == Some(Light::Green),
        "item 1 mid-year"
    );
    ensure!(
        light(1, 2015, 2, 1) == Some(Light::Green),
        "item 1 after the year"
    );
    ensure!(
        light(9, 2015, 2, 1) == Some(Light::Red),
        "item 9 after the year"
    );
    ensure!(
        light(7, 2014, 4, 1) == Some(Light::Red),
        "item 7 on 1 April"
    );
    ensure!(
        light(7, 2014, 4, 10) != Some(Light::Red),
        "item 7 once its plan was in"
    );
    // A card's history is dated as the cards are: in 2014, not on the day the demo started.
    let task = state
        .tasks()
        .find(|t| t.title.starts_with("开展调研论证"))
        .map(|t| t.id)
        .ok_or_else(|| anyhow::anyhow!("a task of the demo year"))?;
    let history: Vec<shared::audit::AuditRecord> = office
        .api
        .get_json(&format!("/api/history/task/{task}"))
        .await?;
    let end_of_2014 = chrono::NaiveDate::from_ymd_opt(2015, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    ensure!(
        !history.is_empty() && history.iter().all(|r| r.at < end_of_2014),
        "the history of a demo card is dated {:?}",
        history.iter().map(|r| r.at).collect::<Vec<_>>()
    );

    // A second start (same data directory) plays nothing again.
    let (dir, database_url) = server.kill();
    let again = Server::start_in(opts(), dir, database_url).await?;
    let office = Session::login(&again, "office").await?;
    let after = office.server_view().await?;
    ensure!(after.tasks().count() == tasks, "the year is played once");
    Ok(())
}
