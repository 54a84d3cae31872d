import { mount } from "svelte";
import App from "./App.svelte";
import { applyTheme, savedTheme } from "./lib/theme";
import "./app.css";

applyTheme(savedTheme());
mount(App, { target: document.getElementById("app")! });
