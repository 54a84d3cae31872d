// Light and dark follow the system unless the user pins one (Settings); kept in localStorage.
export type Theme = "system" | "light" | "dark";

export function savedTheme(): Theme {
  const t = localStorage.getItem("keyward.theme");
  return t === "light" || t === "dark" ? t : "system";
}

export function applyTheme(theme: Theme) {
  if (theme === "system") {
    delete document.documentElement.dataset.theme;
    localStorage.removeItem("keyward.theme");
  } else {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("keyward.theme", theme);
  }
}
