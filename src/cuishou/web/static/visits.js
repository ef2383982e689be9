/* The route page's map: each team's visits at their district centroids, in route order. */
(function () {
  function draw() {
    var source = document.getElementById("route-data");
    var el = document.getElementById("route-chart");
    if (!source || !el || !window.echarts) { return; }
    var routes = JSON.parse(source.textContent);
    var series = [];
    routes.forEach(function (r) {
      series.push({
        name: r.team, type: "line", data: r.points, symbolSize: 14,
        label: { show: true, formatter: function (p) { return p.value[2]; } },
        encode: { x: 0, y: 1 }
      });
    });
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { formatter: function (p) { return p.seriesName + " #" + p.value[3] + " (" + p.value[2] + ")"; } },
      legend: { bottom: 0 },
      xAxis: { type: "value", scale: true, name: "lon" },
      yAxis: { type: "value", scale: true, name: "lat" },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
