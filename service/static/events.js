/* recsys reader events (GET /events.js): impressions and clicks of the blocks, sent to POST /events.
   No dependencies; safe to load async or defer.

   For a page that includes the HTML fragment (GET /articles/{id}/blocks.html):
     <script src="https://RECSYS-HOST/events.js" async></script>
   GET /widget.js carries this same code (service/widget.py puts it in front of the widget): a page
   with the widget needs no second script.

   It reads the markup only, which the fragment (service/fragment.py) and the widget write alike: the
   container's data-recsys-article, -version, -experiment and -arm, each block's data-recsys-block,
   each item's data-recsys-id, -position and -arm. An impression batch goes once per block per page
   view, when the block is at least half in view; a click (or middle click) on an item's link goes at
   once, with navigator.sendBeacon, so it survives the navigation it starts. The reader is known by
   nothing but a random page-view id, made anew on each page load and kept nowhere. Opt-out:
   data-recsys-events="off" on the script or on a container; a service that takes no events
   (RECSYS_EVENTS=false) serves this file with ENABLED false. Whatever fails, nothing is thrown into
   the page. Contract: docs/integration.md#reader-events. */
(function () {
  "use strict";
  var ENABLED = __RECSYS_EVENTS_ENABLED__;
  var script = document.currentScript;
  var optedOut = !ENABLED || (!!script && script.getAttribute("data-recsys-events") === "off");
  var existing = window.recsysEvents;
  if (existing && typeof existing.scan === "function" && typeof existing.scriptApi === "function") {
    // Both scripts on one page: one page-view id, one observer, one set of watched blocks.
    if (!optedOut) existing.scan(document, script);
    return;
  }
  var HALF = 0.5;
  var MAX_EVENTS = 50; // per batch; the endpoint takes 100
  var MAX_CHARS = 4000; // per batch's events, at most 3 UTF-8 bytes each: well under the endpoint's 16 KiB
  var pageView = newPageView();
  var observer = null;
  var watched = typeof WeakSet === "function" ? new WeakSet() : null;
  var pending = typeof WeakMap === "function" ? new WeakMap() : null; // block -> its container and api

  /* The service's base URL for what a script tag finds: its data-recsys-api, else its origin ("" when
     it has none: an inline script). The widget asks it for its own tag. */
  function scriptApi(tag) {
    try {
      if (!tag || !tag.src) return "";
      return tag.getAttribute("data-recsys-api") || new URL(tag.src, location.href).origin;
    } catch (e) {
      /* an unparsable src: none */
    }
    return "";
  }

  function newPageView() {
    var bytes = new Uint8Array(16);
    if (window.crypto && typeof crypto.getRandomValues === "function") crypto.getRandomValues(bytes);
    else for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    var binary = "";
    for (var j = 0; j < bytes.length; j++) binary += String.fromCharCode(bytes[j]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, json, beacon) {
    if (beacon && navigator.sendBeacon) {
      try {
        if (navigator.sendBeacon(url, new Blob([json], { type: "text/plain;charset=UTF-8" }))) return;
      } catch (e) {
        /* refused (over the browser's quota): the fetch below */
      }
    }
    try {
      // text/plain, no credentials: a simple request, no preflight, no cookies.
      fetch(url, {
        method: "POST",
        body: json,
        keepalive: true,
        credentials: "omit",
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
      }).catch(function () {});
    } catch (e) {
      /* never break the page */
    }
  }

  function send(record, events, beacon) {
    var data = record.container.dataset;
    var batch = [];
    var chars = 0;
    var flush = function () {
      var body = {
        v: 1,
        pv: pageView,
        article: data.recsysArticle,
        version: data.recsysVersion,
        experiment: data.recsysExperiment || "",
        arm: data.recsysArm || "default",
        events: batch,
      };
      post(record.api + "/events", JSON.stringify(body), beacon);
      batch = [];
      chars = 0;
    };
    for (var i = 0; i < events.length; i++) {
      var length = JSON.stringify(events[i]).length;
      if (batch.length && (batch.length >= MAX_EVENTS || chars + length > MAX_CHARS)) flush();
      batch.push(events[i]);
      chars += length + 1;
    }
    if (batch.length) flush();
  }

  function eventOf(type, block, item) {
    var position = parseInt(item.getAttribute("data-recsys-position") || "", 10);
    var id = item.getAttribute("data-recsys-id");
    if (isNaN(position) || id === null) return null;
    var event = { type: type, block: block.getAttribute("data-recsys-block"), position: position, item: id };
    var arm = item.getAttribute("data-recsys-arm");
    if (arm) event.arm = arm;
    return event;
  }

  function seen(entries) {
    entries.forEach(function (entry) {
      // The ratio reported at the threshold may round a hair below it.
      if (!entry.isIntersecting || entry.intersectionRatio < HALF - 0.01) return;
      var block = entry.target;
      observer.unobserve(block);
      var record = pending.get(block);
      pending.delete(block);
      if (!record) return;
      var items = block.querySelectorAll("li.recsys-item");
      var events = [];
      for (var i = 0; i < items.length; i++) {
        var event = eventOf("impression", block, items[i]);
        if (event) events.push(event);
      }
      if (events.length) send(record, events, false);
    });
  }

  function clicked(record) {
    return function (event) {
      try {
        if (event.type === "auxclick" && event.button !== 1) return; // the middle button only
        var target = event.target;
        var link = target && target.closest ? target.closest("a.recsys-link") : null;
        var item = link && link.closest("li.recsys-item");
        var block = item && item.closest("section[data-recsys-block]");
        if (!block || !record.container.contains(block)) return;
        var found = eventOf("click", block, item);
        if (found) send(record, [found], true);
      } catch (e) {
        /* never break the page */
      }
    };
  }

  function off(container) {
    return container.getAttribute("data-recsys-events") === "off";
  }

  /* Report the blocks of a rendered container to `api` (the service's base URL). Once per container;
     nothing without IntersectionObserver, where "seen" cannot be told (clicks alone would only skew
     the click-through). */
  function watch(container, api) {
    try {
      if (!ENABLED || typeof IntersectionObserver !== "function" || !watched || !pending) return;
      if (off(container) || watched.has(container)) return;
      var data = container.dataset;
      if (!data.recsysArticle || !data.recsysVersion) return;
      watched.add(container);
      var record = { container: container, api: String(api).replace(/\/+$/, "") };
      observer = observer || new IntersectionObserver(seen, { threshold: HALF });
      var blocks = container.querySelectorAll("section[data-recsys-block]");
      for (var i = 0; i < blocks.length; i++) {
        pending.set(blocks[i], record);
        observer.observe(blocks[i]);
      }
      // Capture: a page's own handler that stops the click's propagation does not hide it.
      container.addEventListener("click", clicked(record), true);
      container.addEventListener("auxclick", clicked(record), true);
    } catch (e) {
      /* never break the page */
    }
  }

  /* Watch the rendered fragments in `root` (the document by default): containers that carry an
     index version, reported to their data-recsys-api, else to the service `tag` (the script that
     asks; by default this one) names. Containers the widget renders are watched by the widget. */
  function scan(root, tag) {
    try {
      var found = (root || document).querySelectorAll(".recsys-blocks[data-recsys-version]");
      var fallback = scriptApi(tag || script) || location.origin;
      for (var i = 0; i < found.length; i++) {
        var api = found[i].getAttribute("data-recsys-api") || fallback;
        watch(found[i], api);
      }
    } catch (e) {
      /* never break the page */
    }
  }

  window.recsysEvents = { watch: watch, scan: scan, scriptApi: scriptApi, pageView: pageView };
  if (optedOut) return;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      scan(document);
    });
  } else scan(document);
})();
