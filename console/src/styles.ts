import { webLightTheme } from '@fluentui/tokens';
import { css, unsafeCSS } from 'lit';

type Token = keyof typeof webLightTheme;

/**
 * A Fluent 2 design token (Microsoft's, as Dynamics 365 uses them): the host page's value of the
 * same CSS custom property when it sets one (a page with Fluent's tokens, or one that overrides
 * `--colorBrandBackground` and friends), else Fluent's web light theme.
 */
const fluent = (name: Token) => unsafeCSS(`var(--${name}, ${webLightTheme[name]})`);

/** Shared look of the console's components: Fluent 2, high-contrast, usable at 360 px. */
export const base = css`
  :host {
    display: block;
    font-family: ${fluent('fontFamilyBase')};
    font-size: 14px;
    line-height: 1.45;
    color: ${fluent('colorNeutralForeground1')};
  }
  * {
    box-sizing: border-box;
  }
  h2,
  h3 {
    margin: 0 0 0.5rem;
    line-height: 1.25;
  }
  button {
    font: inherit;
    padding: 0.45rem 0.9rem;
    border-radius: ${fluent('borderRadiusMedium')};
    border: 1px solid ${fluent('colorNeutralStroke1')};
    background: ${fluent('colorNeutralBackground1')};
    color: ${fluent('colorNeutralForeground1')};
    cursor: pointer;
  }
  button.primary {
    background: ${fluent('colorBrandBackground')};
    border-color: ${fluent('colorBrandBackground')};
    color: ${fluent('colorNeutralForegroundOnBrand')};
  }
  button.danger {
    background: ${fluent('colorPaletteRedBackground3')};
    border-color: ${fluent('colorPaletteRedBackground3')};
    color: ${fluent('colorNeutralForegroundOnBrand')};
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  a:focus-visible,
  summary:focus-visible {
    outline: 2px solid ${fluent('colorStrokeFocus2')};
    outline-offset: 2px;
  }
  label {
    display: block;
    font-weight: 600;
    margin: 0.75rem 0 0.2rem;
  }
  input,
  select,
  textarea {
    font: inherit;
    width: 100%;
    padding: 0.45rem 0.55rem;
    border: 1px solid ${fluent('colorNeutralStrokeAccessible')};
    border-radius: ${fluent('borderRadiusMedium')};
    background: ${fluent('colorNeutralBackground1')};
    color: inherit;
  }
  input[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border-color: ${fluent('colorPaletteRedBorder2')};
  }
  .help {
    margin: 0.2rem 0 0;
    font-size: 0.86rem;
    color: ${fluent('colorNeutralForeground3')};
  }
  .field-error {
    margin: 0.2rem 0 0;
    font-size: 0.86rem;
    color: ${fluent('colorPaletteRedForeground1')};
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .card {
    border: 1px solid ${fluent('colorNeutralStroke2')};
    border-radius: ${fluent('borderRadiusLarge')};
    padding: 1rem 1.25rem;
    max-width: 46rem;
    background: ${fluent('colorNeutralBackground1')};
  }
  .between {
    justify-content: space-between;
  }
  .end {
    justify-content: flex-end;
  }
  .gap-top {
    margin-top: 0.75rem;
  }
  .gap-bottom {
    margin-bottom: 1rem;
  }
  .align-end {
    align-self: flex-end;
  }
  .title {
    font-size: 1.3rem;
    margin: 0;
  }
  .narrow {
    max-width: 36rem;
  }
  .badge {
    display: inline-block;
    padding: 0.1rem 0.55rem;
    border-radius: 999px;
    font-size: 0.82rem;
    font-weight: 600;
    border: 1px solid currentColor;
  }
  .badge.active,
  .badge.delivered,
  .badge.ok {
    color: ${fluent('colorPaletteGreenForeground1')};
  }
  .badge.invalid,
  .badge.failed,
  .badge.rejected {
    color: ${fluent('colorPaletteRedForeground1')};
  }
  .badge.unreachable,
  .badge.held,
  .badge.pending,
  .badge.delivering {
    color: ${fluent('colorPaletteDarkOrangeForeground1')};
  }
  .badge.none,
  .badge.cancelled {
    color: ${fluent('colorNeutralForeground3')};
  }
  fieldset {
    border: 1px solid ${fluent('colorNeutralStroke2')};
    border-radius: ${fluent('borderRadiusMedium')};
    margin: 0.75rem 0;
    padding: 0.5rem 0.75rem;
  }
  label.check {
    display: flex;
    gap: 0.5rem;
    align-items: flex-start;
    font-weight: normal;
    margin: 0.3rem 0;
  }
  label.check input {
    width: auto;
  }
  .certificate h3 {
    font-size: 1rem;
    margin: 0.75rem 0 0.25rem;
  }
  .steps {
    margin: 0.25rem 0 0.5rem;
    padding-left: 1.25rem;
  }
  .steps li {
    margin: 0.2rem 0;
    overflow-wrap: anywhere;
  }
  .readiness h3 {
    font-size: 1rem;
    margin: 0.75rem 0 0.25rem;
  }
  .checklist {
    list-style: none;
    padding: 0;
    margin: 0.25rem 0;
  }
  .checklist li {
    padding: 0.3rem 0;
    overflow-wrap: anywhere;
  }
  .alert {
    border: 1px solid ${fluent('colorPaletteRedBorder2')};
    background: ${fluent('colorPaletteRedBackground1')};
    border-radius: ${fluent('borderRadiusMedium')};
    padding: 0.6rem 0.8rem;
    margin: 0.75rem 0;
  }
  .success {
    border: 1px solid ${fluent('colorPaletteGreenBorder2')};
    background: ${fluent('colorPaletteGreenBackground1')};
    border-radius: ${fluent('borderRadiusMedium')};
    padding: 0.6rem 0.8rem;
    margin: 0.75rem 0;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 0.9rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.4rem 0.5rem;
    border-bottom: 1px solid ${fluent('colorNeutralStroke2')};
    vertical-align: top;
    overflow-wrap: break-word;
  }
  .badge,
  button {
    white-space: nowrap;
  }
  .table-wrap {
    overflow-x: auto;
  }
  dialog {
    border: none;
    border-radius: ${fluent('borderRadiusLarge')};
    padding: 1.25rem;
    width: min(40rem, calc(100vw - 1.5rem));
    max-height: calc(100vh - 1.5rem);
    box-shadow: ${fluent('shadow28')};
  }
  /* The modal's buttons stay in sight however long its form is. */
  .dialog-footer {
    position: sticky;
    bottom: -1.25rem;
    background: ${fluent('colorNeutralBackground1')};
    padding: 0.75rem 0 1.25rem;
    margin-bottom: -1.25rem;
    border-top: 1px solid ${fluent('colorNeutralStroke2')};
  }
  dialog::backdrop {
    background: ${fluent('colorBackgroundOverlay')};
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.25rem 1rem;
    margin: 0.75rem 0;
  }
  dt {
    color: ${fluent('colorNeutralForeground3')};
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  /* The view tabs: Fluent's tab list — text tabs, the selected one underlined in the brand colour. */
  .tabs {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem;
    border-bottom: 1px solid ${fluent('colorNeutralStroke2')};
  }
  .tabs [role='tab'] {
    border: none;
    border-radius: ${fluent('borderRadiusMedium')} ${fluent('borderRadiusMedium')} 0 0;
    background: transparent;
    padding: 0.55rem 0.75rem;
    color: ${fluent('colorNeutralForeground2')};
    border-bottom: 3px solid transparent;
  }
  .tabs [role='tab'][aria-selected='true'] {
    color: ${fluent('colorNeutralForeground1')};
    font-weight: 600;
    border-bottom-color: ${fluent('colorCompoundBrandStroke')};
  }
  .tabs [role='tab']:hover {
    background: ${fluent('colorSubtleBackgroundHover')};
  }
  .product-icon {
    width: 1.6rem;
    height: 1.6rem;
    vertical-align: -0.35rem;
    margin-right: 0.35rem;
    color: ${fluent('colorBrandForeground1')};
  }
  /* Ids, ticket numbers and GUIDs are read and copied whole: never broken inside. */
  .attempts {
    margin: 0.25rem 0 0;
    padding-left: 1.25rem;
  }
  .attempts li {
    margin: 0.125rem 0;
    overflow-wrap: anywhere;
  }
  /* A 40-character thumbprint is wider than a phone: it may wrap anywhere (it is read, not copied by eye). */
  .thumbprint {
    overflow-wrap: anywhere;
  }
  .token {
    white-space: nowrap;
    font-variant-numeric: tabular-nums;
  }
  .session {
    overflow-wrap: anywhere;
  }
  button.link {
    border: none;
    background: none;
    padding: 0;
    color: ${fluent('colorBrandForegroundLink')};
    text-decoration: underline;
    cursor: pointer;
  }
  a {
    color: ${fluent('colorBrandForegroundLink')};
  }
  /* Narrow screens: each table row becomes a card of labelled lines; nothing scrolls sideways. */
  @media (max-width: 600px) {
    table,
    thead,
    tbody,
    tr,
    td {
      display: block;
      width: 100%;
    }
    thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
    tr {
      border: 1px solid ${fluent('colorNeutralStroke2')};
      border-radius: ${fluent('borderRadiusMedium')};
      margin: 0 0 0.6rem;
      padding: 0.25rem 0.5rem;
    }
    td {
      border: none;
      padding: 0.25rem 0;
    }
    td[data-label]:not([data-label=''])::before {
      content: attr(data-label);
      display: block;
      font-size: 0.8rem;
      color: ${fluent('colorNeutralForeground3')};
    }
  }
  @media (max-width: 480px) {
    dl {
      grid-template-columns: 1fr;
    }
    dd {
      margin-bottom: 0.4rem;
    }
  }
`;
