/* oncosearch web page: search, filters, record view, similar records, export.

   Plain ES2020, no build step. The page obeys the server's Content-Security-Policy (scripts and
   styles from our own files only), and every piece of data from the API is untrusted: it reaches
   the page through textContent and attributes set one by one, never through innerHTML.

   The address bar holds the state of the list (?q=…&lang=…&offset=…, ?similar=ID for the records
   like one record) and of the record view (#record/ID), so a search can be bookmarked and Back
   works; `route()` draws the page from the address. */
"use strict";

(() => {
  // --- labels in both languages ---------------------------------------------------------------
  const STRINGS = {
    zh: {
      skip: "跳到结果",
      tagline: "肿瘤文献中英文语义检索",
      switch_to: "English",
      switch_label: "Switch the interface to English",
      query_label: "检索词",
      query_placeholder: "例如：CAR-T细胞治疗的安全性 / checkpoint blockade in melanoma",
      search: "检索",
      syntax_help: "语法：\"精确短语\"　-排除词　author:作者　journal:期刊　year:2019-2022　therapy:car-t　cancer:lymphoma",
      filters: "筛选",
      filter_count: (n) => `（已设 ${n} 项）`,
      f_lang: "文献语言",
      lang_any: "不限",
      lang_zh: "中文",
      lang_en: "英文",
      f_years: "发表年份",
      f_year_from: "起始年份",
      f_year_to: "截止年份",
      year_from_ph: "起",
      year_to_ph: "止",
      f_therapy: "疗法",
      therapy_ph: "如 car-t、NK细胞",
      f_cancer: "癌种",
      cancer_ph: "如 lymphoma、肝癌",
      f_journal: "期刊",
      f_pub_type: "文献类型",
      f_mode: "排序方式",
      mode_hybrid: "综合（推荐）",
      mode_dense: "语义（USE）",
      mode_lexical: "关键词（BM25）",
      mode_english: "英文语义（MiniLM）",
      f_k: "每页条数",
      f_has_abstract: "只看有摘要的文献",
      f_explain: "显示各路排序的名次与得分",
      tags_help: "疗法、癌种可填词表编号（如 car-t）或中英文术语，多个用逗号分隔。",
      clear_filters: "清除筛选",
      select_all: "全选本页",
      export_format: "导出格式",
      export_picked: (n) => `导出已选的 ${n} 条`,
      export_page: (n) => `导出本页 ${n} 条`,
      export_too_many: (n, max) => `已选 ${n} 条，一次最多导出 ${max} 条`,
      pages: "翻页",
      prev: "上一页",
      next: "下一页",
      range: (from, to) => `第 ${from}–${to} 条`,
      similar: "相似文献",
      similar_to: (title) => `查找与“${title}”相似的文献`,
      close: "关闭",
      back: "← 返回检索结果",
      loading: "检索中…",
      loading_record: "正在读取文献…",
      network: "无法连接服务器，请检查网络后重试。",
      server_error: (status) => `服务器出错（HTTP ${status}），请稍后重试。`,
      results_for: (q) => `“${q}”的检索结果`,
      results_listing: "符合筛选条件的文献",
      similar_heading: (title) => `与“${title}”相似的文献`,
      found: (from, to) => `显示第 ${from}–${to} 条结果。`,
      no_results: "没有找到结果。可以换个说法，或放宽筛选条件。",
      no_more: "后面没有更多结果了。",
      empty_query: "请输入检索词，或在“筛选”中设置条件。",
      pick: (title) => `选中：${title}`,
      untitled: "（无标题）",
      title_only: "仅有题录，无摘要",
      pubmed: "在 PubMed 中打开",
      doi_link: "打开 DOI 链接",
      score: "综合得分",
      leg_dense: "语义 USE",
      leg_lexical: "关键词 BM25",
      leg_english: "英文 MiniLM",
      leg_absent: "未参与",
      rank_of: (rank, score) => `第 ${rank} 名 · ${score}`,
      authors: "作者",
      journal: "期刊",
      published: "出版信息",
      pub_types: "文献类型",
      keywords: "关键词",
      tags: "词表标注",
      abstract_zh: "中文摘要",
      abstract_en: "英文摘要",
      no_abstract: "这条文献没有摘要。",
      record_id: "记录编号",
      tag_therapy: "疗法",
      tag_cancer: "癌种",
      tag_target: "靶点",
      tag_drug: "药物",
      tag_adverse_event: "不良反应",
      tag_immune: "免疫",
      tag_general: "其他",
      index_info: (n, years) => `索引收录 ${n} 篇文献${years ? `（${years}）` : ""}`,
    },
    en: {
      skip: "Skip to results",
      tagline: "Bilingual semantic search over oncology abstracts",
      switch_to: "中文",
      switch_label: "切换为中文界面",
      query_label: "Search terms",
      query_placeholder: "e.g. CAR-T细胞治疗的安全性 / checkpoint blockade in melanoma",
      search: "Search",
      syntax_help: "Syntax: \"exact phrase\" · -exclude · author:name · journal:name · year:2019-2022 · therapy:car-t · cancer:lymphoma",
      filters: "Filters",
      filter_count: (n) => `(${n} set)`,
      f_lang: "Record language",
      lang_any: "Any",
      lang_zh: "Chinese",
      lang_en: "English",
      f_years: "Publication years",
      f_year_from: "From year",
      f_year_to: "To year",
      year_from_ph: "from",
      year_to_ph: "to",
      f_therapy: "Therapy",
      therapy_ph: "e.g. car-t, NK cells",
      f_cancer: "Cancer type",
      cancer_ph: "e.g. lymphoma, 肝癌",
      f_journal: "Journal",
      f_pub_type: "Publication type",
      f_mode: "Ranking",
      mode_hybrid: "Combined (recommended)",
      mode_dense: "Semantic (USE)",
      mode_lexical: "Keywords (BM25)",
      mode_english: "English semantic (MiniLM)",
      f_k: "Results per page",
      f_has_abstract: "Only records with an abstract",
      f_explain: "Show each ranking's rank and score",
      tags_help: "Therapy and cancer take glossary ids (car-t) or terms in Chinese or English, several separated by commas.",
      clear_filters: "Clear filters",
      select_all: "Select all on this page",
      export_format: "Export format",
      export_picked: (n) => `Export ${n} selected`,
      export_page: (n) => `Export this page (${n})`,
      export_too_many: (n, max) => `${n} selected: export at most ${max} at a time`,
      pages: "Pages",
      prev: "Previous",
      next: "Next",
      range: (from, to) => `Results ${from}–${to}`,
      similar: "Similar records",
      similar_to: (title) => `Find records similar to “${title}”`,
      close: "Close",
      back: "← Back to the results",
      loading: "Searching…",
      loading_record: "Loading the record…",
      network: "Cannot reach the server; check the connection and try again.",
      server_error: (status) => `The server failed (HTTP ${status}); try again later.`,
      results_for: (q) => `Results for “${q}”`,
      results_listing: "Records matching the filters",
      similar_heading: (title) => `Similar to “${title}”`,
      found: (from, to) => `Showing results ${from}–${to}.`,
      no_results: "No results. Try other words or fewer filters.",
      no_more: "There are no more results.",
      empty_query: "Type something to search for, or set a filter.",
      pick: (title) => `Select: ${title}`,
      untitled: "(untitled)",
      title_only: "Title only, no abstract",
      pubmed: "Open in PubMed",
      doi_link: "Open the DOI link",
      score: "Combined score",
      leg_dense: "Semantic USE",
      leg_lexical: "Keywords BM25",
      leg_english: "English MiniLM",
      leg_absent: "not used",
      rank_of: (rank, score) => `rank ${rank} · ${score}`,
      authors: "Authors",
      journal: "Journal",
      published: "Published",
      pub_types: "Publication type",
      keywords: "Keywords",
      tags: "Glossary tags",
      abstract_zh: "Abstract (Chinese)",
      abstract_en: "Abstract (English)",
      no_abstract: "This record has no abstract.",
      record_id: "Record id",
      tag_therapy: "Therapy",
      tag_cancer: "Cancer",
      tag_target: "Target",
      tag_drug: "Drug",
      tag_adverse_event: "Adverse event",
      tag_immune: "Immunology",
      tag_general: "General",
      index_info: (n, years) => `The index holds ${n} records${years ? ` (${years})` : ""}`,
    },
  };

  const UI_KEY = "oncosearch.ui-lang";
  // The API's parameters, by name, as they also appear in the page's own address.
  const FILTERS = ["lang", "year_from", "year_to", "journal", "pub_type", "therapy", "cancer", "has_abstract"];
  const LIST_PARAMS = [...FILTERS, "mode", "explain", "k", "offset"];
  const DEFAULTS = { lang: "any", mode: "hybrid", k: "10", offset: "0" };
  const MAX_DEPTH = 1000; // the API answers offset + k ≤ 1000
  const MAX_EXPORT = 100; // records in one exported selection
  const LEGS = ["dense", "lexical", "english"];
  const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

  const $ = (id) => document.getElementById(id);
  const form = $("search-form");
  const dialog = $("record");

  let ui = initialUiLang();
  let list = null; // what the list shows: {key, pickKey, params, payload, similarTitle}
  let picked = new Map(); // ticked record id -> title, kept while paging through one list
  let pickKey = null;
  const titles = new Map(); // record id -> its title, for "similar to …"
  let loadSeq = 0; // a newer request makes an older answer stale
  let recordSeq = 0;
  let recordShown = null; // the record id in the dialog, and the record itself
  let recordData = null;
  let opener = null; // {id, el}: where focus goes back when the record view closes
  let stats = null;

  // --- small helpers ----------------------------------------------------------------------------
  function t(key, ...args) {
    const value = STRINGS[ui][key] ?? STRINGS.en[key] ?? key;
    return typeof value === "function" ? value(...args) : value;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function langOf(text) {
    return CJK.test(text || "") ? "zh-CN" : "en";
  }

  function external(href, text, label) {
    const a = el("a", "ext", text);
    a.href = href;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    if (label) a.title = label;
    return a;
  }

  function pubmedLink(pmid) {
    const a = external(`https://pubmed.ncbi.nlm.nih.gov/${encodeURIComponent(pmid)}/`, `PMID ${pmid}`, t("pubmed"));
    a.classList.add("pmid");
    return a;
  }

  function doiLink(doi) {
    // a DOI keeps its slashes in the address; everything else that could break the URL is escaped
    const path = doi.split("/").map(encodeURIComponent).join("/");
    return external(`https://doi.org/${path}`, `DOI ${doi}`, t("doi_link"));
  }

  function titleOf(item) {
    return item.title_zh || item.title_en || (item.title && (item.title.zh || item.title.en)) || t("untitled");
  }

  function initialUiLang() {
    try {
      const saved = localStorage.getItem(UI_KEY);
      if (saved === "zh" || saved === "en") return saved;
    } catch (e) {
      /* storage refused (private window): fall back to the browser's language */
    }
    const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    return String(langs[0] || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  function setStatus(text, kind) {
    const box = $("status");
    box.textContent = text || "";
    box.classList.toggle("error", kind === "error");
    box.classList.toggle("busy", kind === "busy");
  }

  class ApiError extends Error {}

  /** GET a JSON answer of the API; a 401 sends the person to the login page. */
  async function api(path) {
    let response;
    try {
      response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    } catch (e) {
      throw new ApiError(t("network"));
    }
    if (response.status === 401) {
      await response.text().catch(() => ""); // read to the end: leaving would cut the answer off mid-way
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search + location.hash));
      throw new ApiError("");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) {
      const message = body && typeof body.message === "string" && body.message ? body.message : t("server_error", response.status);
      throw new ApiError(message);
    }
    return body;
  }

  // --- the address: the state of the page ----------------------------------------------------
  function currentParams() {
    return new URLSearchParams(window.location.search);
  }

  function recordFromHash() {
    const m = /^#record\/(.+)$/.exec(window.location.hash);
    if (!m) return null;
    try {
      return decodeURIComponent(m[1]);
    } catch (e) {
      return null;
    }
  }

  function splitTerms(value) {
    return value.split(/[,，、;；]/).map((s) => s.trim()).filter(Boolean);
  }

  /** The address parameters for what the form says (defaults left out), offset 0. */
  function paramsFromForm() {
    const p = new URLSearchParams();
    const q = $("q").value.trim();
    if (q) p.set("q", q);
    const fields = {
      lang: $("f-lang").value,
      year_from: $("f-year-from").value.trim(),
      year_to: $("f-year-to").value.trim(),
      journal: $("f-journal").value.trim(),
      pub_type: $("f-pub-type").value.trim(),
      mode: $("f-mode").value,
      k: $("f-k").value,
    };
    for (const [name, value] of Object.entries(fields)) {
      if (value && value !== DEFAULTS[name]) p.set(name, value);
    }
    for (const term of splitTerms($("f-therapy").value)) p.append("therapy", term);
    for (const term of splitTerms($("f-cancer").value)) p.append("cancer", term);
    if ($("f-has-abstract").checked) p.set("has_abstract", "true");
    if ($("f-explain").checked) p.set("explain", "true");
    return p;
  }

  function fillForm(p) {
    $("q").value = p.get("q") || "";
    $("f-lang").value = ["any", "zh", "en"].includes(p.get("lang")) ? p.get("lang") : "any";
    $("f-year-from").value = p.get("year_from") || "";
    $("f-year-to").value = p.get("year_to") || "";
    $("f-journal").value = p.get("journal") || "";
    $("f-pub-type").value = p.get("pub_type") || "";
    $("f-therapy").value = p.getAll("therapy").join(", ");
    $("f-cancer").value = p.getAll("cancer").join(", ");
    $("f-mode").value = ["hybrid", "dense", "lexical", "english"].includes(p.get("mode")) ? p.get("mode") : "hybrid";
    const k = p.get("k") || DEFAULTS.k;
    const kSelect = $("f-k");
    if (![...kSelect.options].some((o) => o.value === k) && /^\d+$/.test(k)) kSelect.append(new Option(k, k));
    kSelect.value = k;
    $("f-has-abstract").checked = p.get("has_abstract") === "true";
    $("f-explain").checked = p.get("explain") === "true";
    updateFilterCount(p);
  }

  function activeFilters(p) {
    return FILTERS.filter((name) => p.getAll(name).some((v) => v && v !== DEFAULTS[name])).length;
  }

  function updateFilterCount(p) {
    const n = activeFilters(p);
    $("filter-count").textContent = n ? t("filter_count", n) : "";
    if (n) $("filters").open = true;
  }

  function go(p, { replace = false, state = {} } = {}) {
    const query = p.toString();
    const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
    if (replace) window.history.replaceState(state, "", url);
    else window.history.pushState(state, "", url);
    route();
  }

  /** Draw the page from the address: the list (fetched when it changed) and the record view. */
  function route() {
    const p = currentParams();
    fillForm(p);
    const key = p.toString();
    if (!list || list.key !== key) loadList(p, key);
    const id = recordFromHash();
    if (id && recordShown !== id) showRecord(id);
    else if (!id && dialog.open) dialog.close();
  }

  // --- the list: a search or the records similar to one ----------------------------------------
  function apiQuery(p, withQ) {
    const out = new URLSearchParams();
    if (withQ && p.get("q")) out.set("q", p.get("q"));
    for (const name of LIST_PARAMS) for (const value of p.getAll(name)) if (value) out.append(name, value);
    return out.toString();
  }

  async function loadList(p, key) {
    const seq = ++loadSeq;
    const similar = p.get("similar");
    const q = p.get("q") || "";
    const newPickKey = (() => {
      const c = new URLSearchParams(p);
      c.delete("offset");
      c.delete("k");
      c.delete("explain");
      return c.toString();
    })();
    if (newPickKey !== pickKey) {
      picked = new Map();
      pickKey = newPickKey;
    }
    if (!similar && !q && activeFilters(p) === 0) {
      list = { key, params: p, payload: null };
      $("results-section").hidden = true;
      setStatus(p.toString() ? t("empty_query") : "");
      document.title = "oncosearch";
      return;
    }
    setStatus(t("loading"), "busy");
    $("results-section").setAttribute("aria-busy", "true");
    try {
      let payload;
      let similarTitle = null;
      if (similar) {
        const [answer, title] = await Promise.all([
          api(`/api/similar/${encodeURIComponent(similar)}?${apiQuery(p, false)}`),
          titles.has(similar) ? titles.get(similar) : api(`/api/records/${encodeURIComponent(similar)}`).then(titleOf),
        ]);
        payload = answer;
        similarTitle = title;
        titles.set(similar, title);
      } else {
        payload = await api(`/api/search?${apiQuery(p, true)}`);
      }
      if (seq !== loadSeq) return; // a newer request is under way
      list = { key, params: p, payload, similarTitle };
      for (const hit of payload.results || []) titles.set(hit.id, titleOf(hit));
      renderList();
    } catch (e) {
      if (seq !== loadSeq) return;
      list = { key, params: p, payload: null };
      $("results-section").hidden = true;
      if (e.message) setStatus(e.message, "error");
    } finally {
      if (seq === loadSeq) $("results-section").removeAttribute("aria-busy");
    }
  }

  function renderList() {
    if (!list || !list.payload) return;
    const { params: p, payload } = list;
    const results = payload.results || [];
    const offset = Number(p.get("offset") || 0);
    const k = Number(p.get("k") || DEFAULTS.k);
    const similar = p.get("similar");
    const q = p.get("q") || "";

    const heading = $("results-heading");
    heading.textContent = similar ? t("similar_heading", list.similarTitle || similar)
      : q ? t("results_for", q) : t("results_listing");
    document.title = `${similar ? t("similar_heading", list.similarTitle || similar) : q || t("results_listing")} – oncosearch`;

    const back = ensureBackButton();
    back.hidden = !(similar && window.history.state && window.history.state.fromList);

    const ol = $("results");
    ol.replaceChildren(...results.map((hit, i) => hitItem(hit, i)));
    ol.start = offset + 1;
    $("results-section").hidden = false;

    const from = offset + 1;
    const to = offset + results.length;
    $("page-info").textContent = results.length ? t("range", from, to) : "";
    $("prev-page").disabled = offset === 0;
    $("next-page").disabled = results.length < k || offset + 2 * k > MAX_DEPTH;
    $("prev-page").hidden = $("next-page").hidden = offset === 0 && results.length < k;
    setStatus(results.length ? t("found", from, to) : offset > 0 ? t("no_more") : t("no_results"));
    updateExport();
  }

  function ensureBackButton() {
    let back = $("back-to-list");
    if (!back) {
      back = el("button", "secondary back");
      back.type = "button";
      back.id = "back-to-list";
      back.addEventListener("click", () => window.history.back());
      $("results-heading").before(back);
    }
    back.textContent = t("back");
    return back;
  }

  /** Put `text` into `parent`, with the spans of `marks` (code-point offsets) as <mark>. */
  function appendMarked(parent, text, marks) {
    const chars = Array.from(text); // the API counts characters (code points), as Python does
    const spans = (Array.isArray(marks) ? marks : [])
      .filter((m) => Array.isArray(m) && Number.isInteger(m[0]) && Number.isInteger(m[1]) && m[0] >= 0 && m[0] < m[1] && m[1] <= chars.length)
      .sort((a, b) => a[0] - b[0]);
    let pos = 0;
    for (const [start, end] of spans) {
      if (start < pos) continue; // overlapping spans: the first wins
      if (start > pos) parent.append(chars.slice(pos, start).join(""));
      parent.append(el("mark", null, chars.slice(start, end).join("")));
      pos = end;
    }
    if (pos < chars.length) parent.append(chars.slice(pos).join(""));
  }

  function hitItem(hit, i) {
    const li = el("li", "hit");
    li.dataset.id = hit.id;

    const box = el("input", "pick");
    box.type = "checkbox";
    box.value = hit.id;
    box.id = `pick-${i}`;
    box.checked = picked.has(hit.id);
    box.setAttribute("aria-label", t("pick", titleOf(hit)));

    const body = el("div", "hit-body");
    const main = hit.title_zh || hit.title_en || t("untitled");
    const h = el("h3", "hit-title");
    h.lang = langOf(main);
    const link = el("a", "open-record", main);
    link.href = `#record/${encodeURIComponent(hit.id)}`;
    link.dataset.id = hit.id;
    h.append(link);
    body.append(h);
    if (hit.title_zh && hit.title_en) {
      const alt = el("p", "alt-title", hit.title_en);
      alt.lang = "en";
      body.append(alt);
    }

    if (hit.snippet && hit.snippet !== main && hit.snippet !== hit.title_en) {
      const snippet = el("p", "snippet");
      snippet.lang = langOf(hit.snippet);
      appendMarked(snippet, hit.snippet, hit.marks);
      body.append(snippet);
    }

    const foot = el("div", "hit-foot");
    const meta = el("p", "meta");
    const parts = [];
    if (hit.year) parts.push(el("span", "year", hit.year));
    if (hit.journal) {
      const j = el("span", "journal", hit.journal);
      j.lang = langOf(hit.journal);
      parts.push(j);
    }
    if (hit.pmid) parts.push(pubmedLink(hit.pmid));
    if (hit.doi) parts.push(doiLink(hit.doi));
    if (hit.has_abstract === false) parts.push(el("span", "badge", t("title_only")));
    parts.forEach((part, n) => {
      if (n) meta.append(el("span", "sep", " · "));
      meta.append(part);
    });
    const similar = el("button", "secondary similar", t("similar"));
    similar.type = "button";
    similar.dataset.id = hit.id;
    similar.setAttribute("aria-label", t("similar_to", titleOf(hit)));
    foot.append(meta, similar);
    body.append(foot);

    if (hit.explain) body.append(explainBlock(hit));
    li.append(box, body);
    return li;
  }

  function explainBlock(hit) {
    const dl = el("dl", "explain");
    const add = (label, value) => {
      dl.append(el("dt", null, label), el("dd", null, value));
    };
    if (typeof hit.score === "number") add(t("score"), hit.score.toFixed(4));
    for (const leg of LEGS) {
      const v = hit.explain[leg];
      if (v === undefined) continue;
      add(t(`leg_${leg}`), v && v.rank != null ? t("rank_of", v.rank, Number(v.score).toFixed(4)) : t("leg_absent"));
    }
    return dl;
  }

  // --- selection and export -----------------------------------------------------------------------
  /** A query string with ":" "/" "," kept as they are (legal in a query): ids such as
      pmid:123 or doi:10.1/x stay short and readable, and 100 of them fit the server's URL limit. */
  function queryString(pairs) {
    const enc = (v) => encodeURIComponent(v).replace(/%3A/gi, ":").replace(/%2F/gi, "/").replace(/%2C/gi, ",");
    return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&");
  }

  /** The export link: the ticked records, else the page's records (a search page as its query and
      filters, a similar page by its ids). */
  function updateExport() {
    const results = (list && list.payload && list.payload.results) || [];
    const p = list ? list.params : new URLSearchParams();
    const link = $("export-link");
    const boxes = [...document.querySelectorAll("#results input.pick")];
    const all = $("select-all");
    all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
    all.indeterminate = !all.checked && boxes.some((b) => b.checked);
    const pairs = [["format", $("export-format").value]];
    let n = results.length;
    if (picked.size) {
      n = picked.size;
      for (const id of picked.keys()) pairs.push(["ids", id]);
    } else if (p.get("q") && !p.get("similar")) {
      pairs.push(["q", p.get("q")]);
      for (const name of LIST_PARAMS) if (name !== "explain") for (const v of p.getAll(name)) if (v) pairs.push([name, v]);
    } else {
      for (const r of results) pairs.push(["ids", r.id]);
    }
    const tooMany = n > MAX_EXPORT;
    link.hidden = n === 0;
    link.classList.toggle("disabled", tooMany);
    if (tooMany) {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
      link.textContent = t("export_too_many", n, MAX_EXPORT);
    } else {
      link.removeAttribute("aria-disabled");
      link.href = `/api/export?${queryString(pairs)}`;
      link.textContent = picked.size ? t("export_picked", n) : t("export_page", n);
    }
  }

  // --- the record view --------------------------------------------------------------------------
  async function showRecord(id) {
    const seq = ++recordSeq;
    recordShown = id;
    recordData = null;
    const body = $("record-body");
    const title = $("record-title");
    title.textContent = titles.get(id) || "";
    body.replaceChildren(title, el("p", "loading", t("loading_record")));
    $("record-similar").dataset.id = id;
    if (!dialog.open) dialog.showModal();
    try {
      const record = await api(`/api/records/${encodeURIComponent(id)}`);
      if (seq !== recordSeq) return;
      recordData = record;
      titles.set(id, titleOf(record));
      renderRecord();
    } catch (e) {
      if (seq !== recordSeq) return;
      body.replaceChildren(title, el("p", "error", e.message));
    }
  }

  function renderRecord() {
    const r = recordData;
    if (!r) return;
    const body = $("record-body");
    const title = $("record-title");
    const t1 = (r.title && (r.title.zh || r.title.en)) || t("untitled");
    title.textContent = t1;
    title.lang = langOf(t1);
    const nodes = [title];
    if (r.title && r.title.zh && r.title.en) {
      const alt = el("p", "alt-title", r.title.en);
      alt.lang = "en";
      nodes.push(alt);
    }

    const dl = el("dl", "facts");
    const fact = (label, value) => {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
      const dd = el("dd");
      if (value instanceof Node) dd.append(value);
      else {
        dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
        dd.lang = langOf(dd.textContent);
      }
      dl.append(el("dt", null, label), dd);
    };
    fact(t("authors"), r.authors);
    fact(t("journal"), r.journal);
    // as a citation writes it: 2019;39(6):874-882
    const volume = r.volume ? `${r.volume}${r.issue ? `(${r.issue})` : ""}` : "";
    const pub = [r.year, [volume, r.pages].filter(Boolean).join(":")].filter(Boolean).join(";");
    fact(t("published"), pub);
    fact(t("pub_types"), r.pub_types);
    const ids = el("span", "ids");
    const idParts = [];
    if (r.pmid) idParts.push(pubmedLink(r.pmid));
    if (r.doi) idParts.push(doiLink(r.doi));
    idParts.forEach((part, n) => {
      if (n) ids.append(" · ");
      ids.append(part);
    });
    if (idParts.length) fact("PMID / DOI", ids);
    nodes.push(dl);

    const abstracts = r.abstract || {};
    let any = false;
    for (const lang of ["zh", "en"]) {
      const text = abstracts[lang];
      if (!text) continue;
      any = true;
      const section = el("section", "abstract");
      section.append(el("h3", null, t(`abstract_${lang}`)));
      for (const para of String(text).split(/\n+/).filter((s) => s.trim())) {
        const pEl = el("p", null, para);
        pEl.lang = lang === "zh" ? "zh-CN" : "en";
        section.append(pEl);
      }
      nodes.push(section);
    }
    if (!any) nodes.push(el("p", "muted", t("no_abstract")));

    if (Array.isArray(r.keywords) && r.keywords.length) {
      const section = el("section", "keywords");
      section.append(el("h3", null, t("keywords")), chips(r.keywords));
      nodes.push(section);
    }
    const tags = r.tags && typeof r.tags === "object" ? Object.entries(r.tags).filter(([, v]) => Array.isArray(v) && v.length) : [];
    if (tags.length) {
      const section = el("section", "tags");
      section.append(el("h3", null, t("tags")));
      const tdl = el("dl", "facts");
      for (const [category, values] of tags) {
        const dd = el("dd");
        dd.append(chips(values));
        tdl.append(el("dt", null, t(`tag_${category}`) === `tag_${category}` ? category : t(`tag_${category}`)), dd);
      }
      section.append(tdl);
      nodes.push(section);
    }
    nodes.push(el("p", "muted small", `${t("record_id")}: ${r.id}`));
    body.replaceChildren(...nodes);
  }

  function chips(values) {
    const ul = el("ul", "chips");
    for (const v of values) {
      const li = el("li", "chip", v);
      li.lang = langOf(String(v));
      ul.append(li);
    }
    return ul;
  }

  function openRecord(id, from) {
    opener = { id, el: from };
    const url = `${window.location.pathname}${window.location.search}#record/${encodeURIComponent(id)}`;
    window.history.pushState({ ...(window.history.state || {}), record: true }, "", url);
    route();
  }

  function closeRecord() {
    if (dialog.open) dialog.close(); // the "close" handler puts the address and the focus back
  }

  function onDialogClosed() {
    recordSeq++;
    recordShown = null;
    recordData = null;
    if (recordFromHash()) {
      if (window.history.state && window.history.state.record) window.history.back();
      else window.history.replaceState({}, "", `${window.location.pathname}${window.location.search}`);
    }
    let target = opener && opener.el && opener.el.isConnected ? opener.el : null;
    if (!target && opener) target = [...document.querySelectorAll("#results a.open-record")].find((a) => a.dataset.id === opener.id) || null;
    opener = null;
    (target || $("q")).focus();
  }

  function showSimilar(id) {
    const p = currentParams();
    p.delete("offset");
    p.set("similar", id);
    const fromList = Boolean(list && list.payload);
    if (dialog.open) {
      // from the record view: the similar list takes the record view's place in the history
      const state = { fromList: Boolean(window.history.state && window.history.state.record) && fromList };
      window.history.replaceState(state, "", `${window.location.pathname}?${p}`);
      opener = { id: null, el: $("results-heading") }; // focus moves there once the dialog has closed
      dialog.close();
      route();
    } else {
      go(p, { state: { fromList } });
      $("results-heading").focus();
    }
  }

  // --- the interface language -------------------------------------------------------------------
  function applyUiLang() {
    document.documentElement.lang = ui === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    const button = $("ui-lang");
    button.textContent = t("switch_to");
    button.lang = ui === "zh" ? "en" : "zh-CN";
    button.setAttribute("aria-label", t("switch_label"));
    updateFilterCount(currentParams());
    showStats();
    if (list && list.payload) renderList();
    if (recordData) renderRecord();
    $("record-similar").textContent = t("similar");
  }

  function showStats() {
    const info = $("index-info");
    if (!stats) return;
    const n = new Intl.NumberFormat(ui === "zh" ? "zh-CN" : "en").format(stats.records || 0);
    info.textContent = t("index_info", n, stats.years || "");
  }

  // --- events -----------------------------------------------------------------------------------
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = paramsFromForm();
    if (!p.get("q") && activeFilters(p) === 0) {
      setStatus(t("empty_query"), "error");
      $("q").focus();
      return;
    }
    go(p);
  });

  // choices that change how the shown list is ranked or drawn apply at once
  for (const id of ["f-mode", "f-k", "f-explain", "f-lang", "f-has-abstract"]) {
    $(id).addEventListener("change", () => {
      if (list && list.payload) form.requestSubmit();
    });
  }

  $("clear-filters").addEventListener("click", () => {
    for (const id of ["f-year-from", "f-year-to", "f-journal", "f-pub-type", "f-therapy", "f-cancer"]) $(id).value = "";
    $("f-lang").value = "any";
    $("f-has-abstract").checked = false;
    if (list && list.payload) form.requestSubmit();
    else updateFilterCount(paramsFromForm());
  });

  $("results").addEventListener("click", (e) => {
    const link = e.target.closest("a.open-record");
    if (link && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.button === 0) {
      e.preventDefault();
      openRecord(link.dataset.id, link);
      return;
    }
    const similar = e.target.closest("button.similar");
    if (similar) showSimilar(similar.dataset.id);
  });

  $("results").addEventListener("change", (e) => {
    const box = e.target.closest("input.pick");
    if (!box) return;
    if (box.checked) picked.set(box.value, titles.get(box.value) || "");
    else picked.delete(box.value);
    updateExport();
  });

  $("select-all").addEventListener("change", (e) => {
    for (const box of document.querySelectorAll("#results input.pick")) {
      box.checked = e.target.checked;
      if (box.checked) picked.set(box.value, titles.get(box.value) || "");
      else picked.delete(box.value);
    }
    updateExport();
  });

  $("export-format").addEventListener("change", updateExport);

  function page(delta) {
    const p = currentParams();
    const k = Number(p.get("k") || DEFAULTS.k);
    const offset = Math.max(0, Number(p.get("offset") || 0) + delta * k);
    if (offset) p.set("offset", String(offset));
    else p.delete("offset");
    go(p, { state: window.history.state && window.history.state.fromList ? { fromList: true } : {} });
    $("results-heading").focus();
  }
  $("prev-page").addEventListener("click", () => page(-1));
  $("next-page").addEventListener("click", () => page(1));

  $("record-close").addEventListener("click", closeRecord);
  $("record-similar").addEventListener("click", (e) => showSimilar(e.currentTarget.dataset.id));
  dialog.addEventListener("close", onDialogClosed);
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) closeRecord(); // a click on the backdrop
  });

  $("ui-lang").addEventListener("click", () => {
    ui = ui === "zh" ? "en" : "zh";
    try {
      localStorage.setItem(UI_KEY, ui);
    } catch (e) {
      /* not remembered in a private window; the switch still applies */
    }
    applyUiLang();
  });

  window.addEventListener("popstate", route);

  // --- start ------------------------------------------------------------------------------------
  applyUiLang();
  route();
  if (!currentParams().toString() && !recordFromHash()) $("q").focus();
  api("/api/stats").then((s) => {
    stats = s;
    showStats();
  }).catch(() => {
    /* the footer stays empty; searches report their own errors */
  });
})();
