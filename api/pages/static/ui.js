// Progressive enhancement only: every page works without it.
// A filter form submits itself when one of its choices changes.
document.querySelectorAll("form.filters select").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});
