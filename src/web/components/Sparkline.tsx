// Latency over recent checks; failures are marked with a cross at the baseline so a gap is
// visible without relying on colour.
export function Sparkline({ values, width = 120, height = 28, label }: { values: (number | null)[]; width?: number; height?: number; label: string }) {
  const ok = values.filter((v): v is number => v !== null);
  if (values.length === 0) return <span className="muted">No checks yet</span>;
  const max = Math.max(1, ...ok);
  const step = values.length > 1 ? (width - 6) / (values.length - 1) : 0;
  const x = (i: number) => 3 + i * step;
  const y = (v: number) => height - 4 - (v / max) * (height - 8);
  const segments: string[] = [];
  let current = '';
  values.forEach((v, i) => {
    if (v === null) {
      if (current) segments.push(current);
      current = '';
    } else current += `${current ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  if (current) segments.push(current);
  const failures = values.filter((v) => v === null).length;
  const summary = ok.length
    ? `${label}: ${ok.length} answers, ${Math.round(Math.min(...ok))}–${Math.round(Math.max(...ok))} ms${failures ? `, ${failures} failed` : ''}`
    : `${label}: all ${failures} recent checks failed`;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary}>
      <title>{summary}</title>
      {segments.map((d, i) => (
        <path key={i} d={d} fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" strokeLinecap="round" />
      ))}
      {values.map((v, i) =>
        v === null ? (
          <path key={`f${i}`} className="spark-fail" d={`M${x(i) - 2.5},${height - 6.5}l5,5m0,-5l-5,5`} strokeWidth="1.5" />
        ) : i === values.length - 1 ? (
          <circle key={`d${i}`} cx={x(i)} cy={y(v)} r="2.2" fill="currentColor" />
        ) : null,
      )}
    </svg>
  );
}
