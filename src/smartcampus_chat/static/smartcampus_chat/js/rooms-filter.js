/*
 * Progressive enhancement of the room filter: hide the rooms whose name does not contain
 * what is typed, without a round trip. Without JavaScript the form submits ?q= instead.
 */
(function () {
  "use strict";
  var input = document.getElementById("scc-room-filter");
  if (!input) {
    return;
  }
  var lists = (input.getAttribute("data-filter-lists") || "")
    .split(/\s+/)
    .map(function (id) { return document.getElementById(id); })
    .filter(Boolean);

  function apply() {
    var term = input.value.trim().toLocaleLowerCase();
    lists.forEach(function (list) {
      list.querySelectorAll("li[data-name]").forEach(function (item) {
        var name = (item.getAttribute("data-name") || "").toLocaleLowerCase();
        item.hidden = term !== "" && name.indexOf(term) === -1;
      });
    });
  }

  input.addEventListener("input", apply);
})();
