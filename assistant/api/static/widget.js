/*
 * CPMR Assistant chat widget: one file, no build step, no framework.
 *
 *   <script src="https://HOST/widget.js" data-title="Ask CPMR" data-lang="ru" async></script>
 *
 * Attributes (all optional): data-api (API base URL; default: this script's own origin),
 * data-lang (en, ru or ky; default: the page's <html lang>), data-title (panel title).
 *
 * Everything lives in a Shadow DOM, so the host page's CSS cannot break the widget and the
 * widget's CSS cannot leak out. Everything that comes from the API is inserted as text
 * (textContent), never as HTML, and links inside documents are not made clickable.
 * The conversation lives for the page session (sessionStorage); "New chat" clears it.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__cpmrAssistantWidget) return;
  window.__cpmrAssistantWidget = true;

  // The widget's own words, in one table. Keys are the same for every language.
  var LABELS = {
    en: {
      open: "Ask CPMR",
      title: "Ask CPMR",
      close: "Close",
      newChat: "New chat",
      placeholder: "Ask about CPMR and its partnerships…",
      send: "Send",
      sources: "Sources",
      showQuote: "Show quote",
      hideQuote: "Hide quote",
      thinking: "Looking in the sources…",
      welcome: "Ask a question about the Centre for Promotion of Medical Research and medical-university partnerships. Every answer shows its sources.",
      you: "You",
      assistant: "Assistant",
      undated: "no date",
      errorBusy: "The assistant is busy. Please try again in a moment.",
      errorRate: "Too many questions in a short time. Please wait a little.",
      errorTooLong: "The message is too long. Please shorten it.",
      errorInput: "The question could not be used. Please rephrase it.",
      errorOrigin: "This website is not allowed to use the assistant.",
      errorNetwork: "The assistant cannot be reached. Check the connection and try again.",
      errorServer: "Something went wrong. Please try again later.",
      reference: "Request id",
    },
    ru: {
      open: "Спросить CPMR",
      title: "Спросить CPMR",
      close: "Закрыть",
      newChat: "Новый чат",
      placeholder: "Спросите о CPMR и его партнёрствах…",
      send: "Отправить",
      sources: "Источники",
      showQuote: "Показать цитату",
      hideQuote: "Скрыть цитату",
      thinking: "Ищу в источниках…",
      welcome: "Задайте вопрос о Центре содействия медицинским исследованиям и партнёрствах медицинских университетов. Каждый ответ показывает свои источники.",
      you: "Вы",
      assistant: "Ассистент",
      undated: "без даты",
      errorBusy: "Ассистент занят. Попробуйте ещё раз через минуту.",
      errorRate: "Слишком много вопросов за короткое время. Пожалуйста, подождите.",
      errorTooLong: "Сообщение слишком длинное. Сократите его.",
      errorInput: "Вопрос не удалось обработать. Переформулируйте его.",
      errorOrigin: "Этому сайту не разрешено использовать ассистента.",
      errorNetwork: "Ассистент недоступен. Проверьте соединение и попробуйте снова.",
      errorServer: "Что-то пошло не так. Попробуйте позже.",
      reference: "Номер запроса",
    },
    ky: {
      open: "CPMRден сура",
      title: "CPMRден сура",
      close: "Жабуу",
      newChat: "Жаңы маек",
      placeholder: "CPMR жана анын өнөктөштүгү жөнүндө сураңыз…",
      send: "Жөнөтүү",
      sources: "Булактар",
      showQuote: "Цитатаны көрсөтүү",
      hideQuote: "Цитатаны жашыруу",
      thinking: "Булактардан изделүүдө…",
      welcome: "Медициналык изилдөөлөрдү илгерилетүү борбору жана медициналык университеттердин өнөктөштүгү жөнүндө суроо бериңиз. Ар бир жооп өз булактарын көрсөтөт.",
      you: "Сиз",
      assistant: "Жардамчы",
      undated: "күнү жок",
      errorBusy: "Жардамчы бош эмес. Бир аздан кийин кайра аракет кылыңыз.",
      errorRate: "Кыска убакытта өтө көп суроо. Бир аз күтө туруңуз.",
      errorTooLong: "Билдирүү өтө узун. Кыскартыңыз.",
      errorInput: "Суроону колдонууга болбоду. Башкача жазып көрүңүз.",
      errorOrigin: "Бул сайтка жардамчыны колдонууга уруксат жок.",
      errorNetwork: "Жардамчыга туташуу мүмкүн эмес. Байланышты текшерип, кайра аракет кылыңыз.",
      errorServer: "Бир нерсе туура эмес болду. Кийинчерээк аракет кылыңыз.",
      reference: "Суроо-талап номери",
    },
  };

  function pickLang(value) {
    var code = String(value || "").toLowerCase().slice(0, 2);
    return LABELS[code] ? code : "en";
  }

  var apiBase = (script.getAttribute("data-api") || new URL(script.src, location.href).origin)
    .replace(/\/+$/, "");
  var lang = pickLang(script.getAttribute("data-lang") || document.documentElement.lang);
  var customTitle = script.getAttribute("data-title");
  var STORE_KEY = "cpmr-assistant:" + apiBase;
  var MAX_HISTORY = 16;

  function t(key) {
    return LABELS[lang][key] || LABELS.en[key] || key;
  }

  var CSS = [
    // !important: in the cascade a host page's rules on the host element beat :host rules,
    // except important ones; everything inside inherits from the host.
    ":host{all:initial!important;position:fixed!important;right:16px!important;",
    "bottom:16px!important;z-index:2147483000!important;display:block!important;",
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif!important;",
    "color:#1b1f24!important}",
    ".panel,.launcher{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;",
    "color:#1b1f24}",
    "*{box-sizing:border-box}",
    "button{font:inherit;cursor:pointer}",
    ":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".launcher{border:0;border-radius:999px;padding:12px 18px;background:#0b5cad;color:#fff;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25);font-weight:600}",
    ".panel{display:none;flex-direction:column;width:380px;max-width:calc(100vw - 32px);",
    "height:560px;max-height:calc(100vh - 32px);background:#fff;border-radius:14px;",
    "box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden;border:1px solid #d0d7de}",
    ":host(.open) .panel{display:flex}:host(.open) .launcher{display:none}",
    "header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:#0b5cad;color:#fff}",
    "header h2{flex:1;margin:0;font-size:16px}",
    "header button{border:1px solid rgba(255,255,255,.6);background:transparent;color:#fff;",
    "border-radius:8px;padding:4px 8px;font-size:13px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;",
    "background:#f6f8fa}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#0b5cad;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #d0d7de}",
    ".note{align-self:center;color:#57606a;font-size:13px;text-align:center}",
    ".error{align-self:stretch;background:#fff1f0;border:1px solid #ffa39e;color:#a8071a}",
    ".status{color:#57606a;font-style:italic}",
    ".cite{color:#0b5cad;font-weight:600;text-decoration:underline;padding:0 1px}",
    ".sources{margin-top:8px;border-top:1px solid #d0d7de;padding-top:6px}",
    ".sources h3{margin:0 0 4px;font-size:13px;text-transform:uppercase;color:#57606a}",
    ".sources ol{margin:0;padding-left:22px}",
    ".sources li{margin:4px 0}",
    ".sources li:target,.sources li.flash{background:#fff8c5}",
    ".meta{color:#57606a;font-size:13px}",
    ".quote-toggle{border:0;background:none;color:#0b5cad;padding:0;font-size:13px;",
    "text-decoration:underline;margin-left:4px}",
    "blockquote{margin:4px 0;padding:4px 8px;border-left:3px solid #0b5cad;background:#f6f8fa;",
    "font-size:14px}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #d0d7de;background:#fff}",
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #8c959f;border-radius:8px;",
    "min-height:42px;max-height:120px}",
    "form button{border:0;border-radius:8px;background:#0b5cad;color:#fff;padding:0 14px}",
    "form button[disabled]{opacity:.5;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:420px){:host{right:8px!important;bottom:8px!important}",
    ".panel{width:calc(100vw - 16px);height:calc(100vh - 16px);max-height:none}}",
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        node.setAttribute(name, attrs[name]);
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // -- the widget's DOM -------------------------------------------------------------------

  var host = el("div", { "data-cpmr-assistant": "" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS;
  root.appendChild(style);

  var launcher = el("button", { class: "launcher", type: "button", "aria-haspopup": "dialog",
    "aria-expanded": "false" });
  var panel = el("section", { class: "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "cpmr-title" });
  var header = el("header");
  var title = el("h2", { id: "cpmr-title" });
  var newChat = el("button", { type: "button", class: "new-chat" });
  var closeBtn = el("button", { type: "button", class: "close" });
  header.append(title, newChat, closeBtn);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant":
    "additions text", tabindex: "0" });
  var form = el("form");
  var inputLabel = el("label", { class: "sr", for: "cpmr-input" });
  var input = el("textarea", { id: "cpmr-input", rows: "1", maxlength: "1000" });
  var send = el("button", { type: "submit", class: "send" });
  form.append(inputLabel, input, send);
  panel.append(header, log, form);
  root.append(launcher, panel);

  function applyLabels() {
    launcher.textContent = customTitle || t("open");
    title.textContent = customTitle || t("title");
    newChat.textContent = t("newChat");
    closeBtn.textContent = t("close");
    closeBtn.setAttribute("aria-label", t("close"));
    input.setAttribute("placeholder", t("placeholder"));
    inputLabel.textContent = t("placeholder");
    send.textContent = t("send");
    log.setAttribute("aria-label", customTitle || t("title"));
    render();
  }

  // -- conversation state ------------------------------------------------------------------

  var turns = load(); // [{role, content, answer?, error?}]
  var busy = false;
  var controller = null;

  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  function save() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(turns.slice(-MAX_HISTORY * 2)));
    } catch (e) {
      /* storage full or disabled: the conversation still lives in memory */
    }
  }

  function history() {
    return turns
      .filter(function (turn) { return !turn.error && !turn.pending; })
      .slice(-MAX_HISTORY)
      .map(function (turn) { return { role: turn.role, content: turn.content }; });
  }

  // -- rendering ---------------------------------------------------------------------------

  var counter = 0;

  function render() {
    log.textContent = "";
    if (!turns.length) log.appendChild(el("p", { class: "msg note" }, t("welcome")));
    turns.forEach(function (turn) {
      log.appendChild(renderTurn(turn));
    });
    log.scrollTop = log.scrollHeight;
  }

  // Redraws only the newest turn, so quotes opened in earlier answers stay open.
  function renderLast() {
    var node = renderTurn(turns[turns.length - 1]);
    if (log.lastChild) log.replaceChild(node, log.lastChild);
    else log.appendChild(node);
    log.scrollTop = log.scrollHeight;
  }

  // Appends one streamed sentence to the answer being written, without redrawing it, so
  // that a screen reader announces each new sentence once.
  function appendSentence(text) {
    var body = log.lastChild && log.lastChild.querySelector(".answer");
    if (!body) return renderLast();
    var status = body.querySelector(".status");
    if (status) body.removeChild(status);
    appendWithCitations(body, text, "a" + counter);
    log.scrollTop = log.scrollHeight;
  }

  function renderTurn(turn) {
    if (turn.role === "user") {
      var mine = el("div", { class: "msg user" });
      mine.appendChild(el("span", { class: "sr" }, t("you") + ": "));
      mine.appendChild(document.createTextNode(turn.content));
      return mine;
    }
    if (turn.error) {
      var box = el("div", { class: "msg error", role: "alert" }, t(turn.error));
      if (turn.requestId) {
        box.appendChild(el("div", { class: "meta" }, t("reference") + ": " + turn.requestId));
      }
      return box;
    }
    var node = el("div", { class: "msg bot" });
    node.appendChild(el("span", { class: "sr" }, t("assistant") + ": "));
    var id = "a" + ++counter;
    var body = el("div", { class: "answer" });
    node.appendChild(body);
    if (turn.pending && !turn.content) {
      body.appendChild(el("span", { class: "status" }, t("thinking")));
    } else {
      appendWithCitations(body, turn.content, id);
    }
    if (turn.answer && turn.answer.citations && turn.answer.citations.length) {
      node.appendChild(renderSources(turn.answer.citations, id));
    }
    return node;
  }

  // Splits "text [1] more [2]" into text nodes and buttons that jump to source n.
  function appendWithCitations(parent, text, id) {
    var pattern = /\[(\d{1,2})\]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var n = match[1];
      var link = el("a", { class: "cite", href: "#" + id + "-s" + n, "data-n": n,
        "aria-label": t("sources") + " " + n }, "[" + n + "]");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var target = root.getElementById(this.getAttribute("href").slice(1));
        if (!target) return;
        target.classList.add("flash");
        target.scrollIntoView({ block: "nearest" });
        var toggle = target.querySelector(".quote-toggle");
        if (toggle) toggle.focus();
        setTimeout(function () { target.classList.remove("flash"); }, 1500);
      });
      parent.appendChild(link);
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderSources(citations, id) {
    var box = el("div", { class: "sources" });
    box.appendChild(el("h3", null, t("sources")));
    var list = el("ol");
    citations.forEach(function (c) {
      var item = el("li", { id: id + "-s" + c.n, value: String(c.n), class: "source" });
      item.appendChild(el("span", { class: "source-title" }, c.title));
      item.appendChild(el("span", { class: "meta" }, " (" + (c.date || t("undated")) + ")"));
      var quoteId = id + "-q" + c.n;
      var toggle = el("button", { type: "button", class: "quote-toggle", "aria-expanded": "false",
        "aria-controls": quoteId }, t("showQuote"));
      var quote = el("blockquote", { id: quoteId, class: "quote", hidden: "" }, c.quote);
      toggle.addEventListener("click", function () {
        var open = quote.hasAttribute("hidden");
        if (open) quote.removeAttribute("hidden");
        else quote.setAttribute("hidden", "");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.textContent = open ? t("hideQuote") : t("showQuote");
      });
      item.append(" ", toggle, quote);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  // -- talking to the API ------------------------------------------------------------------

  function errorKey(status) {
    if (status === 429) return "errorRate";
    if (status === 413) return "errorTooLong";
    if (status === 403) return "errorOrigin";
    if (status === 422 || status === 400) return "errorInput";
    if (status === 503) return "errorBusy";
    return "errorServer";
  }

  // Reads a text/event-stream body: calls onEvent(name, data) per event.
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          var name = "message";
          var data = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (data.length) onEvent(name, data.join("\n"));
        }
        return pump();
      });
    }
    return pump();
  }

  function ask(question) {
    var past = history();
    var user = { role: "user", content: question };
    var reply = { role: "assistant", content: "", pending: true };
    turns.push(user, reply);
    setBusy(true);
    if (turns.length === 2) {
      render(); // replaces the welcome note
    } else {
      log.appendChild(renderTurn(user));
      log.appendChild(renderTurn(reply));
      log.scrollTop = log.scrollHeight;
    }
    controller = new AbortController();
    fetch(apiBase + "/api/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ message: question, history: past, lang: lang }),
      signal: controller.signal,
      credentials: "omit",
    })
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            fail(reply, errorKey(response.status), body && body.error && body.error.request_id);
          });
        }
        return readEvents(response, function (name, data) {
          var payload;
          try {
            payload = JSON.parse(data);
          } catch (e) {
            return;
          }
          if (name === "sentence") {
            reply.content += payload.text;
            appendSentence(payload.text);
          } else if (name === "answer") {
            reply.content = payload.answer;
            reply.answer = { citations: payload.citations, refused: payload.refused };
            delete reply.pending;
            renderLast();
          } else if (name === "error") {
            fail(reply, errorKey(payload.status), payload.request_id);
          }
        }).then(function () {
          if (reply.pending) fail(reply, "errorServer");
        });
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        fail(reply, "errorNetwork");
      })
      .then(function () {
        controller = null;
        save();
        setBusy(false);
        if (turns[turns.length - 1] === reply) renderLast();
      });
  }

  function fail(reply, key, requestId) {
    delete reply.pending;
    reply.error = key;
    reply.content = "";
    if (requestId) reply.requestId = String(requestId);
  }

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
  }

  // -- behaviour ---------------------------------------------------------------------------

  function open() {
    host.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
  }

  function close() {
    host.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  newChat.addEventListener("click", function () {
    if (controller) controller.abort();
    turns = [];
    save();
    setBusy(false);
    render();
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  });

  // A page may switch the widget's language: window.cpmrAssistant.setLang("ru").
  window.cpmrAssistant = {
    setLang: function (code) {
      lang = pickLang(code);
      applyLabels();
    },
    open: open,
    close: close,
  };

  applyLabels();
  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
