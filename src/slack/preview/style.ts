/** The preview page's stylesheet: Slack's light theme, its message layout on a phone and on a desktop. */
export const PREVIEW_CSS = `
:root { --ink: #1d1c1d; --muted: #616061; --line: #dddddd; --code: #e01e5a; --link: #1264a3; --green: #007a5a;
  --bar: 52px; --composer: 64px; }
* { box-sizing: border-box; }
html { scroll-padding-top: var(--bar); }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.46668 Lato, "Slack-Lato", "Helvetica Neue",
  Helvetica, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; -webkit-font-smoothing: antialiased; }
.channel-bar { position: sticky; top: 0; z-index: 2; height: var(--bar); display: flex; align-items: center; gap: 6px;
  padding: 0 16px; background: #3f0e40; color: #fff; font-weight: 900; font-size: 17px; }
.channel-bar .hash { opacity: .7; } .channel-bar .sub { margin-left: auto; font-weight: 400; font-size: 12px; opacity: .75;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 55%; }
main { max-width: 820px; margin: 0 auto; padding: 0 0 calc(var(--composer) + 24px); }
.composer { position: fixed; bottom: 0; left: 0; right: 0; height: var(--composer); background: #fff;
  border-top: 1px solid var(--line); display: flex; align-items: center; padding: 0 16px; color: #868686; z-index: 2; }
.composer span { flex: 1; max-width: 788px; margin: 0 auto; border: 1px solid #bbb; border-radius: 8px; padding: 9px 12px; }
.scene { border-bottom: 8px solid #f4f4f4; padding: 6px 0 10px; }
.scene-title { padding: 4px 16px 2px; }
.scene-title h2 { margin: 0; font-size: 11px; letter-spacing: .06em; text-transform: uppercase; color: #7c3085; }
.scene-title p { margin: 0; font-size: 12px; color: var(--muted); line-height: 1.35; }
.message { display: flex; gap: 8px; padding: 8px 16px; }
.avatar { flex: 0 0 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff; font: 900 13px/36px sans-serif;
  text-align: center; }
.body { min-width: 0; flex: 1; }
.meta { display: flex; align-items: baseline; gap: 6px; font-size: 15px; }
.meta .app { font-size: 10px; font-weight: 700; color: var(--muted); background: rgba(29,28,29,.13); border-radius: 2px;
  padding: 0 3px; } .meta time { font-size: 12px; color: var(--muted); }
.blocks > * { margin: 4px 0; }
.b-header { font-size: 18px; font-weight: 900; line-height: 1.33; margin-top: 6px !important; }
.b-section { display: flex; gap: 8px; } .b-section .main { flex: 1; min-width: 0; }
.mrkdwn { overflow-wrap: anywhere; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; }
.b-context { font-size: 12px; color: var(--muted); line-height: 1.5; overflow-wrap: anywhere; }
.b-context code { font-size: 11px; }
.b-divider { border: 0; border-top: 1px solid var(--line); margin: 8px 0; }
.b-actions { display: flex; flex-wrap: wrap; gap: 8px; padding: 4px 0; }
.btn { font: 700 13px/1 inherit; font-family: inherit; height: 30px; padding: 0 12px; border-radius: 4px;
  border: 1px solid rgba(29,28,29,.3); background: #fff; color: var(--ink); cursor: pointer; white-space: nowrap; }
.btn.primary { background: var(--green); border-color: var(--green); color: #fff; }
.btn.danger { color: var(--code); border-color: rgba(224,30,90,.5); }
code { font: 12px/1.5 Monaco, Menlo, Consolas, "DejaVu Sans Mono", monospace; color: var(--code); background: rgba(29,28,29,.04);
  border: 1px solid rgba(29,28,29,.13); border-radius: 3px; padding: 1px 3px; overflow-wrap: anywhere; }
pre { font: 12px/1.5 Monaco, Menlo, Consolas, "DejaVu Sans Mono", monospace; background: rgba(29,28,29,.04);
  border: 1px solid rgba(29,28,29,.13); border-radius: 4px; padding: 8px; margin: 4px 0; white-space: pre-wrap;
  overflow-wrap: anywhere; }
a { color: var(--link); text-decoration: none; }
.mention { color: var(--link); background: rgba(29,155,209,.1); border-radius: 3px; padding: 0 2px; }
.emoji { font-family: "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", sans-serif; }
.thread-link { font-size: 13px; font-weight: 700; color: var(--link); margin-top: 4px; }
.thread { margin: 4px 16px 8px 60px; border-left: 3px solid #e8e8e8; }
.thread-head { font-weight: 900; font-size: 13px; padding: 4px 12px; } .thread-head span { font-weight: 400; color: var(--muted); }
.thread .message { padding: 6px 12px; }
.ephemeral-wrap { margin: 4px 16px; background: #f8f8f8; border-radius: 6px; }
.only-you { font-size: 12px; color: var(--muted); padding: 6px 12px 0 60px; }
.home { margin: 8px 16px; border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; }
.home-tabs { display: flex; gap: 16px; font-size: 13px; border-bottom: 1px solid var(--line); padding-bottom: 6px; color: var(--muted); }
.home-tabs b { color: var(--ink); border-bottom: 2px solid var(--green); }
.unknown { color: #b00; }
.toc { padding: 12px 16px; font-size: 13px; } .toc h2 { font-size: 15px; margin: 0 0 4px; } .toc p { margin: 0; color: var(--muted); }
@media (max-width: 600px) {
  body { font-size: 15px; }
  .thread { margin-left: 16px; }
  .only-you { padding-left: 16px; }
  .b-header { font-size: 17px; }
}
`;
