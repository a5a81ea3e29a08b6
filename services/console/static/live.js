// Live views: each element with data-live="URL" takes the HTML its event stream sends.
document.querySelectorAll("[data-live]").forEach(function (element) {
  var source = new EventSource(element.getAttribute("data-live"));
  source.onmessage = function (event) { element.innerHTML = event.data; };
});
