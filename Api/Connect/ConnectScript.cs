namespace PatientConnect.Api.Connect;

/// <summary>
/// Search-as-you-type for the hosted page, as progressive enhancement: the page is complete without
/// it (the form reloads the page with ?q=). With it, typing refills the results region from
/// <c>/connect/{ps}/results?q=</c>, server-rendered HTML, so there is one renderer and no client-side
/// templating to escape. Older answers never overwrite newer ones.
/// </summary>
public static class ConnectScript
{
    public const string Source = """
        (function () {
          "use strict";
          var form = document.getElementById("search-form");
          var input = document.getElementById("q");
          var region = document.getElementById("results-region");
          if (!form || !input || !region || !window.fetch) return;
          var url = form.getAttribute("data-results");
          var page = form.getAttribute("action");
          var timer = 0, sent = 0, shown = 0, last = input.value.trim();
          function search() {
            var q = input.value.trim();
            if (q === last) return;
            last = q;
            var ticket = ++sent;
            fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (r) { return r.ok ? r.text() : null; })
              .then(function (html) {
                if (html === null || ticket < shown) return;
                shown = ticket;
                region.innerHTML = html;
                region.setAttribute("data-query", q);
                if (window.history && history.replaceState) {
                  history.replaceState(null, "", q ? page + "?q=" + encodeURIComponent(q) : page);
                }
              })
              .catch(function () { /* the form still works */ });
          }
          input.addEventListener("input", function () {
            clearTimeout(timer);
            timer = setTimeout(search, 120);
          });
        })();
        """;
}
