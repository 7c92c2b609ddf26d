#!/usr/bin/env node
// Prints every Gregorian day 1900-01-01..2050-12-31 with its Korean lunar date from
// korean-lunar-calendar 0.4.0, in the `hypercube lunar --csv` output format. check.sh diffs it
// against the engine.
'use strict';
const KoreanLunarCalendar = require('korean-lunar-calendar');
const c = new KoreanLunarCalendar();
const out = ['solar_date,kr_lunar_year,kr_lunar_month,kr_lunar_day,kr_leap'];
const pad = (n) => String(n).padStart(2, '0');
for (let t = Date.UTC(1900, 0, 1); t <= Date.UTC(2050, 11, 31); t += 86400000) {
  const d = new Date(t);
  const y = d.getUTCFullYear(), m = d.getUTCMonth() + 1, day = d.getUTCDate();
  if (!c.setSolarDate(y, m, day)) throw new Error(`rejected ${y}-${m}-${day}`);
  const k = c.getLunarCalendar();
  out.push(`${y}-${pad(m)}-${pad(day)},${k.year},${k.month},${k.day},${k.intercalation ? 1 : 0}`);
}
process.stdout.write(out.join('\n') + '\n');
