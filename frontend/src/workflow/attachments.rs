//! Evidence (佐证材料): the files attached to a task or a submission, and the control to add
//! one. The bytes go to `POST /api/uploads` first (uploads are not mutations); the upload's id
//! is then recorded with `Mutation::AttachFile`, which the server checks against the upload.

use super::{Ctx, confirm, pick};
use crate::i18n::{self, Lang, tr};
use crate::util::now;
use leptos::prelude::*;
use serde::Deserialize;
use shared::attachment::{
    ALLOWED_TYPES, Attach, AttachedTo, Attachment, DEFAULT_MAX_BYTES, Remove, content_type_for,
};
use shared::ids::{AttachmentId, ItemId};
use shared::mutation::Mutation;
use wasm_bindgen::JsCast;

/// What `POST /api/uploads` answers.
#[derive(Clone, Debug, Deserialize)]
struct Uploaded {
    id: AttachmentId,
    name: String,
    size: u64,
}

/// A size as people read it: 820 B, 12.5 KB, 3.2 MB.
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < KB * KB {
        format!("{:.1} KB", bytes as f64 / KB as f64)
    } else if bytes.is_multiple_of(KB * KB) {
        // A limit (20 MB) reads as it is set.
        format!("{} MB", bytes / (KB * KB))
    } else {
        format!("{:.1} MB", bytes as f64 / (KB * KB) as f64)
    }
}

/// The largest file this server takes, as it said at sign-in.
fn max_upload(cx: Ctx) -> u64 {
    cx.session
        .me
        .with_untracked(|me| me.as_ref().and_then(|m| m.as_ref()?.max_upload_bytes))
        .unwrap_or(DEFAULT_MAX_BYTES)
}

/// Why a file can't be uploaded, checked before sending it (the server checks again).
fn refuse(name: &str, size: u64, max: u64, l: Lang) -> Option<String> {
    if content_type_for(name).is_none() {
        return Some(pick(
            l,
            format!("{name}：只接受 pdf、doc、docx、xls、xlsx、jpg、png 文件"),
            format!("{name}: only pdf, doc, docx, xls, xlsx, jpg and png files are accepted"),
        ));
    }
    if size > max {
        return Some(pick(
            l,
            format!(
                "{name}：文件过大（{}），最大{}",
                human_size(size),
                human_size(max)
            ),
            format!(
                "{name}: too large ({}); at most {}",
                human_size(size),
                human_size(max)
            ),
        ));
    }
    if size == 0 {
        return Some(pick(
            l,
            format!("{name}：文件是空的"),
            format!("{name}: the file is empty"),
        ));
    }
    None
}

/// Sends the file's bytes as the body, its name in `?name=` (what the server expects: no
/// multipart); the server's own message on refusal.
async fn upload(file: web_sys::File, l: Lang) -> Result<Uploaded, String> {
    let name = file.name();
    let url = format!(
        "/api/uploads?name={}",
        String::from(js_sys::encode_uri_component(&name))
    );
    let content_type = content_type_for(&name).unwrap_or("application/octet-stream");
    let res = gloo_net::http::Request::post(&url)
        .header("X-Reformboard", "1")
        .header("Content-Type", content_type)
        .body(file)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| {
            pick(
                l,
                "无法连接服务器，请联网后再上传",
                "No connection: upload when online",
            )
        })?;
    let status = res.status();
    if (200..300).contains(&status) {
        return res.json::<Uploaded>().await.map_err(|_| {
            pick(
                l,
                "服务器的回答无法识别",
                "The server's answer was not understood",
            )
        });
    }
    let message = res
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| crate::api::error_message(&v));
    Err(match (status, message) {
        (_, Some(m)) => l.of(&m).to_string(),
        (413, None) => pick(l, "文件过大", "The file is too large"),
        (401, None) => pick(l, "请先登录", "Please sign in"),
        (s, None) => pick(
            l,
            format!("上传失败（{s}）"),
            format!("Upload failed ({s})"),
        ),
    })
}

/// The files attached to `to` (a task or a submission of `item`), with upload and remove for
/// whoever may change `to`.
#[component]
pub fn Attachments(item: ItemId, to: AttachedTo) -> impl IntoView {
    let cx = Ctx::get();
    let files = Memo::new(move |_| {
        cx.sync.view.with(|s| {
            let mut list: Vec<Attachment> = s
                .attachments()
                .filter(|a| a.to == to && !a.removed)
                .cloned()
                .collect();
            shared::sorting::sort_by_key(&mut list, |a| (a.at, a.id));
            list
        })
    });
    // The check the server makes on AttachFile and RemoveAttachment.
    let may = Memo::new(move |_| {
        cx.actor().is_some_and(|actor| {
            cx.sync
                .view
                .with(|s| shared::attachment::check_target(s, &actor, item, to).is_ok())
        })
    });
    let busy = RwSignal::new(false);
    let error = RwSignal::new(String::new());
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        // Cleared at once, so choosing the same file again fires another change.
        input.set_value("");
        let l = cx.lang.get_untracked();
        let name = file.name();
        let size = file.size() as u64;
        if let Some(why) = refuse(&name, size, max_upload(cx), l) {
            error.set(why);
            return;
        }
        error.set(String::new());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match upload(file, l).await {
                Ok(up) => {
                    cx.send(Mutation::AttachFile(Attach {
                        id: up.id,
                        item,
                        to,
                        name: up.name,
                        size: up.size,
                        at: now(),
                    }));
                }
                Err(e) => error.set(e),
            }
            busy.set(false);
        });
    };
    let accept = ALLOWED_TYPES
        .iter()
        .map(|(ext, _)| format!(".{ext}"))
        .collect::<Vec<_>>()
        .join(",");
    view! {
        <section class="attachments" aria-label=tr("佐证材料", "Evidence")>
            <h3>{tr("佐证材料", "Evidence")}" "<span class="count">{move || files.with(Vec::len)}</span></h3>
            <ul class="attachment-list" role="list">
                <For each=move || files.get() key=|a| a.id children=move |a| {
                    let id = a.id;
                    let name = a.name.clone();
                    let download = a.name.clone();
                    let label = StoredValue::new(a.name.clone());
                    view! {
                        <li class="attachment">
                            <a href=format!("/api/attachments/{id}") download=download class="file-name">{name}</a>
                            <span class="muted">{human_size(a.size)}" · "{a.by_name.clone()}" · "
                                {move || i18n::datetime(a.at.0, cx.lang.get())}</span>
                            <Show when=move || may.get()>
                                <button type="button" class="icon remove"
                                    aria-label=move || format!("{} {}", pick(cx.lang.get(), "删除", "Remove"), label.get_value())
                                    on:click=move |_| {
                                        let l = cx.lang.get_untracked();
                                        if confirm(&pick(l, format!("确定删除附件“{}”？", label.get_value()), format!("Remove {}?", label.get_value()))) {
                                            cx.send(Mutation::RemoveAttachment(Remove { id, at: now() }));
                                        }
                                    }>"✕"</button>
                            </Show>
                        </li>
                    }
                }/>
            </ul>
            <Show when=move || files.with(Vec::is_empty)>
                <p class="hint">{tr("暂无佐证材料", "No evidence yet")}</p>
            </Show>
            <Show when=move || may.get()>
                <label class="upload" class:busy=move || busy.get()>
                    <span>{move || if busy.get() { pick(cx.lang.get(), "正在上传…", "Uploading…") } else { pick(cx.lang.get(), "上传佐证材料", "Upload evidence") }}</span>
                    <input type="file" name="evidence" accept=accept.clone() disabled=move || busy.get()
                        aria-label=tr("上传佐证材料", "Upload evidence") on:change=on_file/>
                </label>
                <p class="hint">{move || {
                    let max = human_size(max_upload(cx));
                    pick(cx.lang.get(), format!("pdf、doc、docx、xls、xlsx、jpg、png，单个文件不超过{max}"), format!("pdf, doc, docx, xls, xlsx, jpg, png; at most {max} each"))
                }}</p>
            </Show>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}
