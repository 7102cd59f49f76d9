extension ViewerAssets {
    /// One column of controls above the panels; one surface: 3D and map side by side; several:
    /// cards side by side, 3D above the map.
    static let style = #"""
    :root { --ink: #222; --muted: #666; --line: #d8d8de; --panel: #fff; --bg: #f4f5f7; --accent: #2f6db5; }
    * { box-sizing: border-box; }
    body { margin: 0; padding: 18px 26px 30px; font: 14px "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
    header h1 { margin: 0; font-size: 21px; font-weight: 600; }
    header .sub { margin: 3px 0 12px; color: var(--muted); }
    .controls, .frames, .legend { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 22px; background: var(--panel);
      border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin-bottom: 10px; }
    .control { display: flex; align-items: center; gap: 7px; }
    .control > span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
    select, button { font: inherit; padding: 3px 8px; border: 1px solid #b9bcc6; border-radius: 5px; background: #fff; color: var(--ink); }
    button { cursor: pointer; }
    button:hover { border-color: var(--accent); }
    input[type=range] { accent-color: var(--accent); }
    #tv-clip { width: 150px; }
    #tv-clip-value { min-width: 4em; font-variant-numeric: tabular-nums; }
    .frames #tv-frame { flex: 1 1 300px; }
    .frames .play { min-width: 6.5em; }
    #tv-frame-label { min-width: 18em; font-variant-numeric: tabular-nums; }
    .legend { justify-content: space-between; }
    #tv-colorbar { width: min(560px, 100%); height: 52px; }
    .help { margin: 0; color: var(--muted); font-size: 12px; }
    .panels { display: grid; gap: 14px; }
    .panels.single { grid-template-columns: 1fr; }
    .panels.several { grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
    .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px 8px; min-width: 0; }
    .panel h2 { margin: 0; font-size: 16px; font-weight: 600; }
    .frame-label { margin: 2px 0 6px; color: var(--muted); min-height: 1.2em; }
    .views { display: grid; gap: 10px; position: relative; }
    .single .views { grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); }
    .several .views, .single .one-d .views { grid-template-columns: 1fr; }
    .view3d { position: relative; height: 460px; }
    .several .view3d { height: 360px; }
    .view3d canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
    .view3d canvas.gl { cursor: grab; touch-action: none; }
    .view3d canvas.gl:active { cursor: grabbing; }
    .view3d canvas.overlay { pointer-events: none; }
    canvas.contour { width: 100%; height: 460px; cursor: crosshair; }
    .several canvas.contour { height: 380px; }
    canvas.curve { width: 100%; height: 420px; cursor: crosshair; }
    .readout { margin: 6px 0 0; min-height: 1.3em; font-size: 13px; color: #333; font-variant-numeric: tabular-nums; }
    .message { color: var(--muted); }
    .fatal { color: #b00020; font-weight: 600; }
    @media (max-width: 900px) { .single .views { grid-template-columns: 1fr; } }
    """#
}
