/* The experiment page's charts, drawn as the KPI dashboard's are (the page embeds its figures
   as JSON in #chart-data; ECharts draws them; data-charts-ready tells tests it is done):
   both arms' cumulative recovery rates by day, and the difference (challenger − champion)
   with its 95% interval as a band that narrows as cases and payments come in. No figure is
   computed here: the band is drawn from the interval's lower edge and its width. */
(function () {
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(2) + "%"; }
  function axisPct(v) { return (Math.round(v * 10000) / 100) + "%"; }
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
    var cu = data.curves;
    chart("chart-curves", {
      tooltip: { trigger: "axis", valueFormatter: pct }, legend: { bottom: 0 },
      grid: { left: 60, right: 30, top: 20, bottom: 60 },
      xAxis: { type: "category", data: cu.days },
      yAxis: { type: "value", axisLabel: { formatter: axisPct } },
      series: cu.series.map(function (s, i) {
        return { id: s.id, name: s.name, type: "line", data: s.data, connectNulls: false,
                 itemStyle: { color: ["#1c4e80", "#b7791f"][i % 2] } };
      })
    });
    var iv = data.interval;
    chart("chart-interval", {
      tooltip: { trigger: "axis", valueFormatter: pct }, legend: { bottom: 0, data: [iv.estimateLabel, iv.intervalLabel] },
      grid: { left: 60, right: 30, top: 20, bottom: 60 },
      xAxis: { type: "category", data: iv.days },
      yAxis: { type: "value", axisLabel: { formatter: axisPct } },
      series: [
        { id: "low", name: iv.intervalLabel, type: "line", data: iv.low, stack: "ci", stackStrategy: "all",
          symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false } },
        { id: "band", name: iv.intervalLabel, type: "line", data: iv.width, stack: "ci", stackStrategy: "all",
          symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { color: "#1c4e80", opacity: 0.18 },
          itemStyle: { color: "#1c4e80" }, tooltip: { show: false } },
        { id: "estimate", name: iv.estimateLabel, type: "line", data: iv.estimate, connectNulls: false,
          itemStyle: { color: "#9b1c1c" },
          markLine: { silent: true, symbol: "none", lineStyle: { color: "#4a5568", type: "dashed" }, data: [{ yAxis: 0 }] } }
      ]
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.setAttribute("data-charts-ready", String(charts.length));
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
