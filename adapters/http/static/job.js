// Follows an import job: asks the page's own URL for JSON every second, moves the progress bar, and reloads
// the page when the job has ended, which then shows the result. Without JavaScript a meta refresh does it.
(function () {
  "use strict";
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  if (!bar) { return; }
  var url = bar.getAttribute("data-job-url");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (job) {
        if (job.status === "succeeded" || job.status === "failed") {
          window.location.reload();
          return;
        }
        if (job.total > 0) {
          bar.max = job.total;
          bar.value = job.done;
          count.textContent = job.done + " / " + job.total + " 行 rows";
        } else {
          count.textContent = job.done + " 行 rows";
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
