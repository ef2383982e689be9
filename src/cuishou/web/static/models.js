/* The model card's charts: the page embeds the card's figures as JSON; ECharts draws them
   (lift and cumulative capture by decile, calibration by decile, the daily PSI of the score
   and of each feature with the 0.25 alert line). No figure is computed here. */
(function () {
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
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
    var lift = data.lift;
    chart("chart-lift", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: { left: 50, right: 60, top: 30, bottom: 60 },
      xAxis: { type: "category", name: lift.decileLabel, nameLocation: "middle", nameGap: 26, data: lift.deciles },
      yAxis: [
        { type: "value", name: lift.liftLabel },
        { type: "value", name: lift.captureLabel, min: 0, max: 1,
          axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } }
      ],
      series: [
        { id: "lift", name: lift.liftLabel, type: "bar", data: lift.lift, itemStyle: { color: "#1c4e80" } },
        { id: "capture", name: lift.captureLabel, type: "line", yAxisIndex: 1, data: lift.capture,
          tooltip: { valueFormatter: pct }, itemStyle: { color: "#b7791f" } }
      ]
    });
    var cal = data.calibration;
    chart("chart-calibration", {
      tooltip: { trigger: "axis", valueFormatter: pct }, legend: { bottom: 0 },
      grid: { left: 60, right: 30, top: 30, bottom: 60 },
      xAxis: { type: "category", name: cal.decileLabel, nameLocation: "middle", nameGap: 26, data: cal.deciles },
      yAxis: { type: "value", min: 0, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
      series: [
        { id: "predicted", name: cal.predictedLabel, type: "line", data: cal.predicted, itemStyle: { color: "#1c4e80" } },
        { id: "observed", name: cal.observedLabel, type: "bar", data: cal.observed, itemStyle: { color: "#0b7a75" } }
      ]
    });
    var psi = data.psi;
    var palette = ["#9b1c1c", "#1c4e80", "#0b7a75", "#b7791f", "#6b46c1", "#2f855a", "#c05621", "#2c5282", "#702459", "#4a5568"];
    chart("chart-psi", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v.toFixed(3); } },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 50, right: 30, top: 30, bottom: 60 },
      xAxis: { type: "category", data: psi.days },
      yAxis: { type: "value", name: "PSI", min: 0 },
      series: psi.series.map(function (s, i) {
        var line = { id: s.id, name: s.name, type: "line", data: s.data, connectNulls: false,
                     lineStyle: { width: s.id === "score" ? 3 : 1.5 },
                     itemStyle: { color: palette[i % palette.length] } };
        if (i === 0) {
          line.markLine = { silent: true, symbol: "none", lineStyle: { color: "#9b1c1c", type: "dashed" },
                            label: { position: "insideEndTop", formatter: psi.thresholdLabel + " " + psi.threshold },
                            data: [{ yAxis: psi.threshold }] };
        }
        return line;
      })
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.setAttribute("data-charts-ready", String(charts.length));
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
