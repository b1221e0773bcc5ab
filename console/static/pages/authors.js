// Top authors by reach, handles as the role sees them (hash tokens for brand analysts).
import { gql } from "../api.js";
import { clear, h, table } from "../dom.js";
import { fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, range } from "../brand.js";
import { empty, errorNotice, errorsNotice, heading } from "../ui.js";

const AUTHORS = `query ($brand: String, $from: DateTime, $to: DateTime) {
  topAuthors(brand: $brand, from: $from, to: $to, first: 20) {
    account { platform handle displayName followers } posts engagement reach } }`;

export async function render(main) {
  const out = h("div", { id: "authors-out", "aria-live": "polite" });
  const run = async (f) => {
    try {
      const { data, errors } = await gql(AUTHORS, { brand: f.brand || null, ...range(f) });
      const rows = data.topAuthors || [];
      const cols = [
        [t("platform"), (r) => r.account.platform],
        [t("handle"), (r) => h("span", { class: r.account.handle?.startsWith("h:") ? "hashed" : "" }, r.account.handle ?? t("redacted"))],
        [t("followers"), (r) => fmtNum(r.account.followers ?? 0)],
        [t("posts"), (r) => fmtNum(r.posts)],
        [t("engagement"), (r) => fmtNum(r.engagement)],
        [t("reach"), (r) => fmtNum(r.reach)],
      ];
      clear(out, errorsNotice(errors), rows.length ? table(cols, rows, { class: "data num" }) : empty(t("noAuthors")));
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm([], run);
  main.append(heading(t("topAuthorsTitle")), form, out);
  await run(filter);
}
