/* The overview's charts: the page embeds its figures as JSON; ECharts draws them. */
(function () {
  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var c = window.echarts.init(el);
      c.setOption(option);
      charts.push(c);
    }
    var grid = { left: 70, right: 70, top: 40, bottom: 40 };
    var b = data.buckets;
    chart("chart-buckets", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0 }, grid: { left: 60, right: 80, top: 40, bottom: 56 },
      xAxis: { type: "category", data: b.labels },
      yAxis: [{ type: "value", name: b.casesLabel }, { type: "value", name: b.amountLabel }],
      series: [
        { name: b.casesLabel, type: "bar", data: b.cases, itemStyle: { color: "#1c4e80" } },
        { name: b.amountLabel, type: "line", yAxisIndex: 1, data: b.amounts, itemStyle: { color: "#b7791f" } }
      ]
    });
    var o = data.outcomes;
    chart("chart-outcomes", {
      tooltip: { trigger: "axis" }, grid: { left: 110, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: o.labels, inverse: true },
      series: [{ name: o.label, type: "bar", data: o.values, itemStyle: { color: "#0b7a75" } }]
    });
    var r = data.recovery;
    chart("chart-recovery", {
      tooltip: { trigger: "axis" }, grid: grid,
      xAxis: { type: "category", data: r.labels }, yAxis: { type: "value", name: r.label },
      series: [{ name: r.label, type: "bar", data: r.values, itemStyle: { color: "#1c4e80" } }]
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.setAttribute("data-charts-ready", String(charts.length));
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
