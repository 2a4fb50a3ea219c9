/* recsys related-stories widget (GET /widget.js). No dependencies; safe to load async or defer.

   Embed (docs/integration.md):
     <div class="recsys-blocks" data-recsys-article="ARTICLE-ID"></div>
     <script src="https://RECSYS-HOST/widget.js" async></script>

   Each .recsys-blocks element is filled with the two blocks of its article, "Related Stories" and
   "More in <section>", from GET /articles/{id}/blocks (or GET /related?url= when it names no
   article), once it is near the viewport. The markup is the one of GET /articles/{id}/blocks.html
   (service/fragment.py): the same elements, classes and attributes, in the same order. Text is set
   with textContent only. A title carries its item's language as `lang` and a `dir`: "rtl" for a
   language or script written right to left (RTL, which service/widget.py writes from
   service/fragment.py), else "auto"; the blocks keep the page's direction. Whatever fails
   (network, an error answer, a malformed body) leaves the element empty, in its reserved space,
   with data-recsys-state="error": never an exception thrown into the page.

   Reader events: service/widget.py serves this file behind service/static/events.js, whose
   window.recsysEvents reports each rendered container's impressions and clicks and holds the page
   view's random id. While the service runs an experiment (EXPERIMENT, which service/widget.py sets),
   each list request carries the page view's bucket: FNV-1a 32 of the container's data-recsys-assign
   (a site's first-party id) or else of the page-view id, mod 100, as recsys/serving/experiments.py
   hashes. Without an experiment, no bucket: a list stays one cache entry per article. */
(function () {
  "use strict";
  var CSS = __RECSYS_CSS__;
  var EXPERIMENT = __RECSYS_EXPERIMENT__;
  var RTL = __RECSYS_RTL__;
  var LANGUAGE = /^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*$/;
  var STYLE_ID = "recsys-widget-style";
  var script = document.currentScript;
  var events = window.recsysEvents;
  if (!events || typeof events.scriptApi !== "function" || typeof events.pageView !== "string") {
    // Not ours (a page's own global of that name): no events, and the API of the page's origin.
    events = { watch: function () {}, scriptApi: function () { return ""; }, pageView: "" };
  }
  var reporting = !(script && script.getAttribute("data-recsys-events") === "off");
  var scriptApi = events.scriptApi(script);

  function injectStyle() {
    if (document.getElementById(STYLE_ID)) return;
    var style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function safeHref(url) {
    // Only web links and site paths: the service refuses anything else on input; this keeps a
    // javascript: URL out of the page even if one got through.
    if (typeof url !== "string") return null;
    return /^(https?:\/\/|\/(?!\/))/i.test(url) ? url : null;
  }

  function el(name, className) {
    var node = document.createElement(name);
    if (className) node.setAttribute("class", className);
    return node;
  }

  function text(value) {
    return typeof value === "string" && value ? value : null;
  }

  function languageOf(value) {
    return typeof value === "string" && LANGUAGE.test(value) ? value : null;
  }

  function direction(language) {
    // As service/fragment.py: a script subtag decides when there is one, else the language.
    if (!language) return "auto";
    var subtags = language.split("-");
    for (var i = 1; i < subtags.length; i++) {
      if (subtags[i].length === 1) break; // an extension or private use: no script beyond it
      if (/^[A-Za-z]{4}$/.test(subtags[i])) {
        var written = subtags[i].charAt(0).toUpperCase() + subtags[i].slice(1).toLowerCase();
        return RTL.scripts.indexOf(written) >= 0 ? "rtl" : "auto";
      }
    }
    return RTL.languages.indexOf(subtags[0].toLowerCase()) >= 0 ? "rtl" : "auto";
  }

  function renderItem(item, position) {
    var li = el("li", "recsys-item");
    li.setAttribute("data-recsys-id", String(item.id));
    li.setAttribute("data-recsys-position", String(position));
    var arm = text(item.arm);
    if (arm) li.setAttribute("data-recsys-arm", arm);
    var image = safeHref(item.image_url);
    if (image) {
      var img = el("img", "recsys-image");
      img.setAttribute("src", image);
      img.setAttribute("alt", "");
      img.setAttribute("loading", "lazy");
      img.setAttribute("decoding", "async");
      li.appendChild(img);
    }
    var href = safeHref(item.url);
    var link = el(href ? "a" : "span", "recsys-link");
    if (href) link.setAttribute("href", href);
    var title = text(item.title);
    // The language names the title: a URL or an id shown in its place has none.
    var language = title ? languageOf(item.language) : null;
    if (language) link.setAttribute("lang", language);
    link.setAttribute("dir", direction(language));
    link.textContent = title || text(item.url) || String(item.id);
    li.appendChild(link);
    var author = text(item.author);
    var published = text(item.published_at);
    if (author || published) {
      var meta = el("span", "recsys-meta");
      if (author) {
        var by = el("span", "recsys-author");
        by.textContent = author;
        meta.appendChild(by);
      }
      if (published) {
        var time = el("time", "recsys-date");
        time.setAttribute("datetime", published);
        time.textContent = published.slice(0, 10);
        meta.appendChild(time);
      }
      li.appendChild(meta);
    }
    return li;
  }

  function renderBlock(kind, heading, items) {
    var section = el("section", "recsys-block recsys-block--" + kind);
    section.setAttribute("aria-label", heading);
    section.setAttribute("data-recsys-block", kind);
    var h = el("h2", "recsys-heading");
    h.textContent = heading;
    section.appendChild(h);
    var list = el("ul", "recsys-list");
    for (var i = 0; i < items.length; i++) list.appendChild(renderItem(items[i], i));
    section.appendChild(list);
    return section;
  }

  function itemsOf(block) {
    if (!block || !Array.isArray(block.items)) throw new Error("recsys: malformed blocks answer");
    return block.items.filter(function (item) {
      return item && (typeof item.id === "string" || typeof item.id === "number");
    });
  }

  function render(container, body) {
    var related = itemsOf(body.related);
    var inSection = itemsOf(body.more_in_section);
    var data = container.dataset;
    var fragment = document.createDocumentFragment();
    if (related.length) {
      fragment.appendChild(renderBlock("related", data.recsysHeadingRelated || "Related Stories", related));
    }
    if (inSection.length) {
      // As service/fragment.py: every item is from the article's section; a plain replace.
      var template = data.recsysHeadingSection || "More in {section}";
      var heading = template.split("{section}").join(text(inSection[0].section) || "").trim();
      fragment.appendChild(renderBlock("section", heading, inSection));
    }
    container.textContent = "";
    container.appendChild(fragment);
    // What events.js reports with, as the fragment's container carries it.
    if (typeof body.article_id === "string") container.setAttribute("data-recsys-article", body.article_id);
    if (typeof body.index_version === "string") {
      container.setAttribute("data-recsys-version", body.index_version);
      container.setAttribute("data-recsys-experiment", text(body.experiment) || "");
      container.setAttribute("data-recsys-arm", text(body.arm) || "default");
    }
  }

  function fnv1a(value) {
    var bytes =
      typeof TextEncoder === "function"
        ? new TextEncoder().encode(value)
        : unescape(encodeURIComponent(value)).split("").map(function (c) { return c.charCodeAt(0); });
    var hash = 2166136261;
    for (var i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 16777619) >>> 0;
    return hash;
  }

  function api(container) {
    return (container.dataset.recsysApi || scriptApi || location.origin).replace(/\/+$/, "");
  }

  function requestUrl(container) {
    var data = container.dataset;
    var params = new URLSearchParams(data.recsysQuery || "");
    if (data.recsysLimit) params.set("limit", data.recsysLimit);
    if (data.recsysSectionLimit) params.set("section_limit", data.recsysSectionLimit);
    var chosen = params.has("bucket") || params.has("assign") || params.has("arm"); // the site's own choice
    var assign = data.recsysAssign || events.pageView;
    if (EXPERIMENT && !chosen && assign) params.set("bucket", String(fnv1a(assign) % 100));
    var path;
    if (data.recsysArticle) {
      path = "/articles/" + data.recsysArticle.split("/").map(encodeURIComponent).join("/") + "/blocks";
    } else {
      var canonical = document.querySelector('link[rel="canonical"]');
      var url = data.recsysUrl || (canonical && canonical.href) || location.href.split("#")[0];
      params.set("url", url);
      path = "/related";
    }
    var query = params.toString();
    return api(container) + path + (query ? "?" + query : "");
  }

  function load(container) {
    container.setAttribute("data-recsys-state", "loading");
    var timeout = parseInt(container.dataset.recsysTimeout || "5000", 10);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeout) : null;
    var fail = function () {
      container.textContent = "";
      container.setAttribute("data-recsys-state", "error");
    };
    var done = function () {
      if (timer) clearTimeout(timer);
    };
    var init = { credentials: "omit", headers: { Accept: "application/json" } };
    if (controller) init.signal = controller.signal;
    try {
      fetch(requestUrl(container), init)
        .then(function (response) {
          if (!response.ok) throw new Error("recsys: HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          done();
          render(container, body);
          container.setAttribute("data-recsys-state", "loaded");
          if (reporting) events.watch(container, api(container));
        })
        .catch(function () {
          done();
          fail();
        });
    } catch (e) {
      done();
      fail();
    }
  }

  function scan(root) {
    var found = (root || document).querySelectorAll(".recsys-blocks:not([data-recsys-state])");
    if (!found.length) return;
    injectStyle();
    var observer = null;
    if (typeof IntersectionObserver === "function") {
      observer = new IntersectionObserver(
        function (entries) {
          entries.forEach(function (entry) {
            if (entry.isIntersecting) {
              observer.unobserve(entry.target);
              load(entry.target);
            }
          });
        },
        { rootMargin: (script && script.getAttribute("data-recsys-margin")) || "600px 0px" }
      );
    }
    for (var i = 0; i < found.length; i++) {
      var container = found[i];
      container.setAttribute("data-recsys-state", "waiting");
      if (observer) observer.observe(container);
      else load(container);
    }
  }

  function start() {
    try {
      scan(document);
    } catch (e) {
      /* never break the page */
    }
  }

  window.recsysWidget = { scan: start };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
