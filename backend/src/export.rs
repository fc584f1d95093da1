//! Exports: the plan ledger (改革台账) as .xlsx and .csv, the year-end assessment as .xlsx, and a
//! bulletin as a printable A4 page. The rows come from `shared::ledger` and the bulletin from
//! the synced entity, computed over exactly what the user may see (the rule of pull), so an
//! export never shows a draft its reader could not open in the app.

use crate::app::AppState;
use crate::auth::session::ActiveUser;
use crate::db::now_millis;
use crate::entity_store::EntityRow;
use crate::entity_store::visible;
use crate::error::{ApiError, ApiResult};
use crate::upload::{disposition, visible_entity};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet};
use shared::actor::{Actor, Role};
use shared::board::zh_date;
use shared::entity::{Entity, EntityKey, Millis};
use shared::ids::BulletinId;
use shared::ledger::{Cell, Sheet, assessment_sheet, ledger};
use shared::message::Msg;
use shared::state::State as Entities;
use shared::state::Stored;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Routes under `/api/export`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/export/ledger.xlsx", get(ledger_xlsx))
        .route("/export/ledger.csv", get(ledger_csv))
        .route("/export/assessment.xlsx", get(assessment_xlsx))
        .route("/export/bulletins/{file}", get(bulletin_html))
}

/// `?as_of=YYYY-MM-DD`: the plan as it stood at the end of that day (default: today, Beijing).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AsOfQuery {
    /// YYYY-MM-DD; default today (Beijing time).
    pub as_of: Option<String>,
}

/// `?sheet=…&as_of=…` of the CSV ledger.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct CsvQuery {
    /// `items`, `units`, `tasks` (default), `submissions` or `difficulties` (or the sheet's
    /// Chinese name).
    pub sheet: Option<String>,
    /// YYYY-MM-DD; default today (Beijing time).
    pub as_of: Option<String>,
}

/// The ledger's sheets by their names in URLs, in the order `shared::ledger::ledger` makes them.
const SHEET_KEYS: [&str; 5] = ["items", "units", "tasks", "submissions", "difficulties"];

/// Today in Beijing, the plan's time zone.
pub fn today() -> NaiveDate {
    shared::op::local_date(Millis(now_millis()))
}

fn as_of(raw: Option<&str>) -> ApiResult<NaiveDate> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today()),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(Msg::new(
                "日期格式应为 YYYY-MM-DD",
                "Dates are written YYYY-MM-DD",
            ))
        }),
    }
}

/// Every entity `actor` may see, as one state.
pub async fn load_visible(pool: &sqlx::AnyPool, actor: &Actor) -> ApiResult<Entities> {
    let rows: Vec<EntityRow> =
        sqlx::query_as("SELECT id, space, version, visible_unit, data FROM entity")
            .fetch_all(pool)
            .await?;
    let mut state = Entities::new();
    for row in rows.iter().filter(|r| visible(r, actor)) {
        state.put(row.entity()?);
    }
    Ok(state)
}

fn download(content_type: &str, name: &str, body: Vec<u8>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_DISPOSITION, disposition("attachment", name)),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
    ];
    let mut response = (headers, body).into_response();
    if content_type == XLSX {
        // An .xlsx is a zip already: not worth compressing again.
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("identity"),
        );
    }
    response
}

fn xlsx_fault(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing xlsx: {e}"))
}

/// Columns wide enough for their contents (a Chinese character takes two), within reason.
fn widths(sheet: &Sheet) -> Vec<f64> {
    let width = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    (0..sheet.headers.len())
        .map(|c| {
            let header = width(sheet.headers[c]);
            let cells = sheet
                .rows
                .iter()
                .filter(|r| r.len() == sheet.headers.len())
                .filter_map(|r| r.get(c))
                .map(|cell| match cell {
                    Cell::Date(_) => 10,
                    other => width(&other.text()),
                })
                .max()
                .unwrap_or(0);
            (header.max(cells) + 2).clamp(6, 60) as f64
        })
        .collect()
}

fn write_sheet(ws: &mut Worksheet, sheet: &Sheet) -> Result<(), rust_xlsxwriter::XlsxError> {
    let bold = Format::new()
        .set_bold()
        .set_background_color(0xDDEBF7)
        .set_align(FormatAlign::Center);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.set_name(sheet.name)?;
    for (c, h) in sheet.headers.iter().enumerate() {
        ws.write_string_with_format(0, col(c), *h, &bold)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, col(c), s)?;
                }
                Cell::Number(n) => {
                    ws.write_number(r, col(c), *n)?;
                }
                Cell::Date(d) => match excel_date(*d) {
                    Some(when) => {
                        ws.write_datetime_with_format(r, col(c), &when, &date)?;
                    }
                    // Outside Excel's years 1900–9999 (a date typed or sent wrong): shown as
                    // written rather than failing the whole workbook for everyone.
                    None => {
                        ws.write_string(r, col(c), d.to_string())?;
                    }
                },
                Cell::Empty => {}
            }
        }
    }
    for (c, w) in widths(sheet).into_iter().enumerate() {
        ws.set_column_width(col(c), w)?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !sheet.rows.is_empty() && !sheet.headers.is_empty() {
        let last_row = u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX);
        ws.autofilter(0, 0, last_row, col(sheet.headers.len() - 1))?;
    }
    Ok(())
}

/// `d` as an Excel date, if Excel can hold it.
fn excel_date(d: NaiveDate) -> Option<ExcelDateTime> {
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).ok()?,
        u8::try_from(d.month()).ok()?,
        u8::try_from(d.day()).ok()?,
    )
    .ok()
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// The sheets as one workbook.
pub fn workbook(sheets: &[Sheet]) -> ApiResult<Vec<u8>> {
    let mut wb = Workbook::new();
    for sheet in sheets {
        write_sheet(wb.add_worksheet(), sheet).map_err(xlsx_fault)?;
    }
    wb.save_to_buffer().map_err(xlsx_fault)
}

/// Text that Excel would run as a formula is written as text (the guard `crate::audit` uses).
fn csv_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// One sheet as CSV for Excel: UTF-8 with a byte-order mark, so the Chinese opens right.
pub fn to_csv(sheet: &Sheet) -> ApiResult<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fault = |e: csv::Error| ApiError::Internal(e.into());
        w.write_record(&sheet.headers).map_err(fault)?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(|c| csv_cell(&c.text())))
                .map_err(fault)?;
        }
        w.flush().map_err(|e| ApiError::Internal(e.into()))?;
    }
    Ok(out)
}

/// The plan ledger (改革台账) as .xlsx: items, units, tasks, submissions and difficulties, one
/// sheet each, as they stood on `as_of`.
#[utoipa::path(get, path = "/api/export/ledger.xlsx", tag = "exports", params(AsOfQuery),
    responses((status = 200, description = "The ledger workbook",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn ledger_xlsx(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Response> {
    let date = as_of(q.as_of.as_deref())?;
    let entities = load_visible(&state.db.pool, &user.0.actor).await?;
    let bytes = workbook(&ledger(&entities, date))?;
    Ok(download(XLSX, &format!("改革台账-{date}.xlsx"), bytes))
}

/// One sheet of the ledger as CSV.
#[utoipa::path(get, path = "/api/export/ledger.csv", tag = "exports", params(CsvQuery),
    responses((status = 200, body = String, content_type = "text/csv")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn ledger_csv(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(q): Query<CsvQuery>,
) -> ApiResult<Response> {
    let date = as_of(q.as_of.as_deref())?;
    let wanted = q.sheet.as_deref().map(str::trim).unwrap_or("tasks");
    let entities = load_visible(&state.db.pool, &user.0.actor).await?;
    let sheets = ledger(&entities, date);
    let sheet = sheets
        .iter()
        .zip(SHEET_KEYS)
        .find(|(s, key)| *key == wanted || s.name == wanted)
        .map(|(s, _)| s)
        .ok_or_else(|| {
            let (zh, en) = (SHEET_KEYS.join("、"), SHEET_KEYS.join(", "));
            ApiError::bad_request(shared::msg!(
                "sheet 应为 {zh} 之一",
                "sheet must be one of {en}"
            ))
        })?;
    let bytes = to_csv(sheet)?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("改革台账-{}-{date}.csv", sheet.name),
        bytes,
    ))
}

/// The year-end assessment (勤政考核) as .xlsx, with the formula under the figures. The office's.
#[utoipa::path(get, path = "/api/export/assessment.xlsx", tag = "exports", params(AsOfQuery),
    responses((status = 200, description = "The assessment workbook",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn assessment_xlsx(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Response> {
    if user.0.actor.role != Role::Office {
        return Err(ApiError::forbidden(Msg::new(
            "只有综合办可以导出勤政考核",
            "Only the reform office can export the assessment",
        )));
    }
    let date = as_of(q.as_of.as_deref())?;
    let entities = load_visible(&state.db.pool, &user.0.actor).await?;
    let bytes = workbook(&[assessment_sheet(&entities, date)])?;
    Ok(download(XLSX, &format!("勤政考核-{date}.xlsx"), bytes))
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A bulletin as a standalone page laid out for A4 paper: escaped text, inline styles only, no
/// scripts.
pub fn bulletin_page(b: &shared::bulletin::Bulletin, issuer: &str) -> String {
    let heading = |line: &str| {
        line.split_once('、').is_some_and(|(n, _)| {
            !n.is_empty() && n.chars().all(|c| "一二三四五六七八九十".contains(c))
        })
    };
    let mut body = String::new();
    for line in b.body.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            body.push_str("<p class=\"gap\"></p>\n");
        } else if heading(line) {
            body.push_str(&format!("<p class=\"h\">{}</p>\n", escape(line)));
        } else {
            body.push_str(&format!("<p>{}</p>\n", escape(line)));
        }
    }
    let status = if b.published {
        ""
    } else {
        "（草稿，未发布）"
    };
    let date = b
        .published_at
        .map(shared::op::local_date)
        .map_or_else(String::new, zh_date);
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>\n\
         @page {{ size: A4; margin: 25mm 22mm; }}\n\
         body {{ font-family: \"FangSong\", \"STFangsong\", \"Songti SC\", \"SimSun\", serif; font-size: 16pt; line-height: 1.75; color: #000; max-width: 166mm; margin: 0 auto; }}\n\
         h1 {{ font-family: \"SimHei\", \"Heiti SC\", sans-serif; font-size: 22pt; font-weight: normal; text-align: center; margin: 0 0 .5em; }}\n\
         p {{ margin: 0; text-indent: 2em; }}\n\
         p.meta {{ text-indent: 0; text-align: center; font-size: 12pt; margin-bottom: 1.5em; }}\n\
         p.h {{ font-family: \"SimHei\", \"Heiti SC\", sans-serif; }}\n\
         p.gap {{ height: .6em; }}\n\
         p.sign {{ text-indent: 0; text-align: right; margin-top: 2em; }}\n\
         @media screen {{ body {{ padding: 20mm 0; }} }}\n\
         </style>\n</head>\n<body>\n<h1>{title}</h1>\n<p class=\"meta\">截至{as_of}{status}</p>\n{body}\
         <p class=\"sign\">{issuer}<br>{date}</p>\n</body>\n</html>\n",
        title = escape(&b.title),
        as_of = zh_date(b.as_of),
        issuer = escape(issuer),
    )
}

/// A bulletin as a printable A4 page (`{id}.html`), if the user may see it (drafts are the
/// office's).
#[utoipa::path(get, path = "/api/export/bulletins/{file}", tag = "exports",
    params(("file" = String, Path, description = "`<bulletin id>.html`")),
    responses((status = 200, body = String, content_type = "text/html")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn bulletin_html(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(&<shared::bulletin::Bulletin as Stored>::NOUN);
    let id: BulletinId = file
        .strip_suffix(".html")
        .unwrap_or(&file)
        .parse()
        .map_err(|_| not_found())?;
    let pool = &state.db.pool;
    let actor = &user.0.actor;
    let Some(Entity::Bulletin(b)) = visible_entity(pool, &EntityKey::bulletin(id), actor).await?
    else {
        return Err(not_found());
    };
    // The office issues every bulletin, whichever unit the account that wrote it belongs to.
    let issuer = shared::unit::OFFICE_UNIT;
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
        (
            header::CONTENT_DISPOSITION,
            disposition("inline", &format!("{}.html", b.title)),
        ),
        // A page of its own: its styles are inline, and nothing else may load or run.
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".to_string(),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
    ];
    Ok((headers, bulletin_page(&b, issuer)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn csv_guards_formulas_and_has_a_bom() -> anyhow::Result<()> {
        let sheet = Sheet {
            name: "任务",
            headers: vec!["任务", "日期"],
            rows: vec![vec![
                Cell::Text("=HYPERLINK(\"x\")".into()),
                Cell::Date(NaiveDate::from_ymd_opt(2014, 3, 31).unwrap_or_default()),
            ]],
        };
        let text = String::from_utf8(to_csv(&sheet).map_err(|e| anyhow::anyhow!("{e}"))?)?;
        assert!(text.starts_with('\u{feff}'));
        assert!(
            text.contains("\"'=HYPERLINK(\"\"x\"\")\",2014-03-31"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn a_date_excel_cannot_hold_is_written_as_text() -> anyhow::Result<()> {
        let sheet = Sheet {
            name: "任务",
            headers: vec!["任务", "期限"],
            rows: vec![
                vec![
                    Cell::Text("古代".into()),
                    Cell::Date(NaiveDate::from_ymd_opt(1800, 1, 1).unwrap_or_default()),
                ],
                vec![
                    Cell::Text("未来".into()),
                    Cell::Date(NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap_or_default()),
                ],
            ],
        };
        let bytes = workbook(&[sheet]).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert!(bytes.starts_with(b"PK"), "an xlsx (zip) came out");
        Ok(())
    }

    #[test]
    fn as_of_defaults_and_refuses_garbage() {
        assert!(as_of(None).is_ok());
        assert_eq!(
            as_of(Some("2014-06-30")).ok(),
            NaiveDate::from_ymd_opt(2014, 6, 30)
        );
        assert!(as_of(Some("2014-13-01")).is_err());
    }
}
