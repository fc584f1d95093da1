//! Talking to the backend over HTTP (gloo-net). Every state-changing request carries the
//! `X-Reformboard` header the server's CSRF check requires.

use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::message::Msg;
use wasm_bindgen::{JsCast, JsValue};

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No connection (or the server is down): worth retrying later.
    Network,
    /// Not signed in (401).
    Unauthorized,
    /// The server answered with an error; `message` is meant for the user.
    Server {
        /// HTTP status.
        status: u16,
        /// Message from the server.
        message: Msg,
    },
}

impl ApiError {
    /// A message to show, in both languages.
    pub fn message(&self) -> Msg {
        match self {
            ApiError::Network => Msg::new("无法连接服务器", "Cannot reach the server"),
            ApiError::Unauthorized => Msg::new("请先登录", "Please sign in"),
            ApiError::Server { message, .. } => message.clone(),
        }
    }

    /// An answer that could not be read as the JSON expected.
    fn unreadable(status: u16, e: impl std::fmt::Display) -> ApiError {
        ApiError::Server {
            status,
            message: shared::msg!(
                "服务器的回答无法识别：{e}",
                "The server's answer was not understood: {e}"
            ),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ApiError::Network)
            || matches!(self, ApiError::Server { status, .. } if *status >= 500)
    }
}

/// The message of the server's error answer (`{"error", "message", "message_en"}`; see the
/// backend's `error` module), if it has one. An answer with no English (a server older than
/// the English messages, or a proxy's) shows the Chinese in both languages.
pub fn error_message(body: &serde_json::Value) -> Option<Msg> {
    let text = |key: &str| body.get(key).and_then(|m| m.as_str()).map(String::from);
    let zh = text("message")?;
    let en = text("message_en").unwrap_or_else(|| zh.clone());
    Some(Msg::owned(zh, en))
}

async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    let status = res.status();
    if status == 401 {
        return Err(ApiError::Unauthorized);
    }
    if !(200..300).contains(&status) {
        let message = res
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| error_message(&v))
            .unwrap_or_else(|| shared::msg!("服务器错误 {status}", "Server error {status}"));
        return Err(ApiError::Server { status, message });
    }
    if status == 204 {
        return serde_json::from_str("null").map_err(|e| ApiError::unreadable(status, e));
    }
    res.json::<T>()
        .await
        .map_err(|e| ApiError::unreadable(status, e))
}

/// GET `path` and decode the JSON answer.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let res = Request::get(path)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    decode(res).await
}

/// GET `path` and decode the answer, taking the response boot.js fetched early under
/// `window[prefetched]` if it is there (once: a later call asks the server afresh).
pub async fn get_prefetched<T: DeserializeOwned>(
    path: &str,
    prefetched: &str,
) -> Result<T, ApiError> {
    match take_prefetched(prefetched) {
        Some(promise) => {
            let res = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|_| ApiError::Network)?
                .dyn_into::<web_sys::Response>()
                .map_err(|_| ApiError::Network)?;
            decode(Response::from(res)).await
        }
        None => get(path).await,
    }
}

fn take_prefetched(name: &str) -> Option<js_sys::Promise> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str(name);
    let promise = js_sys::Reflect::get(&window, &key).ok()?;
    js_sys::Reflect::set(&window, &key, &JsValue::UNDEFINED).ok()?;
    promise.dyn_into::<js_sys::Promise>().ok()
}

/// POST `body` to `path` and decode the answer — unless boot.js sent this very request while the
/// wasm loaded: then its answer, taken once from `window[prefetched]` (`{body, response}`). An
/// early answer that is not a success (the session ended meanwhile, no connection) is not kept:
/// the request goes again, and its answer is the one that counts.
pub async fn post_prefetched<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    prefetched: &str,
) -> Result<T, ApiError> {
    match take_prefetched_answer(prefetched, body).await {
        Ok(res) => {
            crate::util::mark(&format!("{prefetched} taken"));
            return decode(res).await;
        }
        // Why, as a performance mark: what a test (or whoever profiles a slow start) reads.
        Err(why) => crate::util::mark(&format!("{prefetched} not taken: {why}")),
    }
    post(path, body).await
}

/// How long the app waits for boot.js to have sent its request (it may first wait for the
/// saved copy and for who is signed in) before sending its own: a stalled answer there must not
/// hold the sync up for good.
const PREFETCH_SENT_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The successful answer boot.js got under `window[name]`, if what it sent equals `body` (as
/// JSON values: its text may order or space things differently); otherwise why not.
async fn take_prefetched_answer<B: Serialize>(
    name: &str,
    body: &B,
) -> Result<Response, &'static str> {
    let described =
        wasm_bindgen_futures::JsFuture::from(take_prefetched(name).ok_or("none or taken")?);
    let timer = gloo_timers::future::sleep(PREFETCH_SENT_WITHIN);
    let sent = match futures::future::select(described, std::pin::pin!(timer)).await {
        futures::future::Either::Left((Ok(sent), _)) => sent,
        futures::future::Either::Left((Err(_), _)) => return Err("failed"),
        futures::future::Either::Right(_) => return Err("not sent in time"),
    };
    let field = |key: &str| js_sys::Reflect::get(&sent, &JsValue::from_str(key)).ok();
    let sent_body = field("body")
        .and_then(|b| b.as_string())
        .ok_or("not sent")?;
    let same = serde_json::from_str::<serde_json::Value>(&sent_body).ok()
        == serde_json::to_value(body).ok();
    if !same {
        return Err("another request");
    }
    let answer = field("response")
        .and_then(|r| r.dyn_into::<js_sys::Promise>().ok())
        .ok_or("no answer")?;
    let res = wasm_bindgen_futures::JsFuture::from(answer)
        .await
        .ok()
        .and_then(|r| r.dyn_into::<web_sys::Response>().ok())
        .ok_or("no connection")?;
    if res.ok() {
        Ok(Response::from(res))
    } else {
        Err("not a success")
    }
}

/// POST `body` as JSON to `path` and decode the JSON answer (`()` for 204).
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let req = Request::post(path)
        .header("X-Reformboard", "1")
        .json(body)
        .map_err(|e| ApiError::Server {
            status: 0,
            message: shared::msg!("请求无法编码：{e}", "The request could not be encoded: {e}"),
        })?;
    let res = req.send().await.map_err(|_| ApiError::Network)?;
    decode(res).await
}
