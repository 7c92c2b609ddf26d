#!/usr/bin/env node
// Baseline for `cargo bench -p bench`: times lunar-javascript 1.7.7 on the inputs file written by
// bench/benches/engine.rs (lines "YYYY-MM-DDTHH:MM:SS,gender", UTC+8 wall clocks) and prints
// {"pillars_us": .., "chart_us": ..}: microseconds per four-pillar set and per full chart
// (pillars + ten gods + hidden stems + 12 stages + nayin + void + luck start and 10 luck pillars).
'use strict';
const fs = require('fs');
const { Solar } = require('lunar-javascript');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => {
  const [dt, g] = l.split(',');
  const [d, t] = dt.split('T');
  const [y, m, day] = d.split('-').map(Number);
  const [h, mi, s] = t.split(':').map(Number);
  return { y, m, day, h, mi, s, g: Number(g) };
});
const P = ['Year', 'Month', 'Day', 'Time'];
let sink = 0;
function pillars(r) {
  const e = Solar.fromYmdHms(r.y, r.m, r.day, r.h, r.mi, r.s).getLunar().getEightChar();
  e.setSect(2);
  sink += e.getYear().length + e.getMonth().length + e.getDay().length + e.getTime().length;
}
function chart(r) {
  const e = Solar.fromYmdHms(r.y, r.m, r.day, r.h, r.mi, r.s).getLunar().getEightChar();
  e.setSect(2);
  for (const p of P) {
    sink += e['get' + p]().length + e['get' + p + 'ShiShenGan']().length + e['get' + p + 'ShiShenZhi']().length;
    sink += e['get' + p + 'HideGan']().length + e['get' + p + 'DiShi']().length + e['get' + p + 'NaYin']().length;
  }
  sink += e.getDayXunKong().length;
  const yun = e.getYun(r.g, 2);
  sink += yun.getStartYear() + yun.getStartSolar().getYear();
  for (const d of yun.getDaYun(11)) sink += d.getGanZhi().length + d.getStartYear();
}
function time(f) {
  for (const r of rows) f(r); // warm-up
  let best = Infinity;
  for (let pass = 0; pass < 5; pass++) {
    const t0 = process.hrtime.bigint();
    for (const r of rows) f(r);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / rows.length);
  }
  return best;
}
const out = { pillars_us: time(pillars), chart_us: time(chart), n: rows.length, sink };
console.log(JSON.stringify(out));
