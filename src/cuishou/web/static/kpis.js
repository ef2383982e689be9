/* The KPI dashboard's charts: the page embeds the report's figures as JSON; ECharts draws
   them (trend lines, the roll-rate heat map, target gauges). No figure is computed here. */
(function () {
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(2) + "%"; }
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
    var tr = data.trend;
    chart("chart-trend", {
      tooltip: { trigger: "axis", valueFormatter: pct }, legend: { bottom: 0 },
      grid: { left: 60, right: 30, top: 20, bottom: 60 },
      xAxis: { type: "category", data: tr.days },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v * 100) + "%"; } } },
      series: tr.series.map(function (s, i) {
        return { id: s.code, name: s.name, type: "line", data: s.data, connectNulls: false,
                 itemStyle: { color: ["#1c4e80", "#0b7a75"][i % 2] } };
      })
    });
    var r = data.roll;
    chart("chart-roll", {
      tooltip: { formatter: function (p) { return r.from[p.value[1]] + " → " + r.to[p.value[0]] + ": " + pct(p.value[2]); } },
      grid: { left: 60, right: 20, top: 20, bottom: 70 },
      xAxis: { type: "category", data: r.to, splitArea: { show: true } },
      yAxis: { type: "category", data: r.from, splitArea: { show: true } },
      visualMap: { min: 0, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#f7fbff", "#1c4e80"] } },
      series: [{ id: "roll", name: r.label, type: "heatmap", data: r.cells,
                 label: { show: true, formatter: function (p) { return Math.round(p.value[2] * 100) + "%"; } } }]
    });
    var gauges = data.gauges;
    var n = Math.max(gauges.length, 1);
    chart("chart-gauges", {
      series: gauges.map(function (g, i) {
        var value = g.progress === null ? 0 : Math.round(g.progress * 1000) / 10;
        return { id: g.code, name: g.name, type: "gauge", min: 0, max: 150,
                 center: [((i + 0.5) * 100 / n) + "%", "60%"], radius: Math.min(90, 300 / n) + "%",
                 progress: { show: true }, axisLabel: { show: false }, splitNumber: 3,
                 title: { offsetCenter: [0, "85%"], fontSize: 12 },
                 detail: { formatter: function (v) { return g.progress === null ? "—" : v + "%"; },
                          fontSize: 16, offsetCenter: [0, "35%"] },
                 data: [{ value: value, name: g.name }] };
      })
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.setAttribute("data-charts-ready", String(charts.length));
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
