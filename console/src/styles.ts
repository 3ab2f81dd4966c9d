import { css } from 'lit';

/** Shared look of the console's components: plain, high-contrast, usable at 360 px. */
export const base = css`
  :host {
    display: block;
    font:
      15px/1.45 system-ui,
      -apple-system,
      'Segoe UI',
      Roboto,
      sans-serif;
    color: #1b1f24;
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
    border-radius: 6px;
    border: 1px solid #57606a;
    background: #fff;
    color: #1b1f24;
    cursor: pointer;
  }
  button.primary {
    background: #0b5cad;
    border-color: #0b5cad;
    color: #fff;
  }
  button.danger {
    background: #b42318;
    border-color: #b42318;
    color: #fff;
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
    outline: 3px solid #f5a623;
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
    border: 1px solid #8c959f;
    border-radius: 6px;
    background: #fff;
    color: inherit;
  }
  input[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border-color: #b42318;
  }
  .help {
    margin: 0.2rem 0 0;
    font-size: 0.86rem;
    color: #57606a;
  }
  .field-error {
    margin: 0.2rem 0 0;
    font-size: 0.86rem;
    color: #b42318;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .card {
    border: 1px solid #d0d7de;
    border-radius: 10px;
    padding: 1rem 1.25rem;
    max-width: 46rem;
    background: #fff;
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
    color: #1a7f37;
  }
  .badge.invalid,
  .badge.failed,
  .badge.rejected {
    color: #b42318;
  }
  .badge.unreachable,
  .badge.held,
  .badge.pending,
  .badge.delivering {
    color: #9a6700;
  }
  .badge.none,
  .badge.cancelled {
    color: #57606a;
  }
  fieldset {
    border: 1px solid #d0d7de;
    border-radius: 6px;
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
    border: 1px solid #b42318;
    background: #fff5f5;
    border-radius: 6px;
    padding: 0.6rem 0.8rem;
    margin: 0.75rem 0;
  }
  .success {
    border: 1px solid #1a7f37;
    background: #f3fbf5;
    border-radius: 6px;
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
    border-bottom: 1px solid #d0d7de;
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
    border-radius: 10px;
    padding: 1.25rem;
    width: min(40rem, calc(100vw - 1.5rem));
    max-height: calc(100vh - 1.5rem);
    box-shadow: 0 10px 40px rgba(0, 0, 0, 0.3);
  }
  /* The modal's buttons stay in sight however long its form is. */
  .dialog-footer {
    position: sticky;
    bottom: -1.25rem;
    background: #fff;
    padding: 0.75rem 0 1.25rem;
    margin-bottom: -1.25rem;
    border-top: 1px solid #d0d7de;
  }
  dialog::backdrop {
    background: rgba(27, 31, 36, 0.55);
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
    color: #57606a;
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  /* Ids, ticket numbers and GUIDs are read and copied whole: never broken inside. */
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
    color: #0f6cbd;
    text-decoration: underline;
    cursor: pointer;
  }
  a {
    color: #0f6cbd;
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
      border: 1px solid #d0d7de;
      border-radius: 6px;
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
      color: #57606a;
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
