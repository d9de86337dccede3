// The dashboard's only script: the pages work without it. It applies the
// filter bar when a select changes and opens a sign-in's details when its
// row is clicked.
"use strict";
document.addEventListener("change", function (e) {
  var t = e.target;
  if (t.matches && t.matches("form.filters select")) {
    t.form.submit();
  }
});
document.addEventListener("click", function (e) {
  var row = e.target.closest && e.target.closest("tr[data-entry]");
  if (row && !e.target.closest("a")) {
    var a = row.querySelector("a[href^='#']");
    if (a) {
      location.hash = a.getAttribute("href");
    }
  }
});
