import { defineStore } from 'pinia'
import { ref, watch } from 'vue'

export type Theme = 'light' | 'dark'
const THEME_KEY = 'tfkd_theme'

function initialTheme(): Theme {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(THEME_KEY) : null
  if (saved === 'light' || saved === 'dark') return saved
  return typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches
    ? 'dark'
    : 'light'
}

export const useSettingsStore = defineStore('settings', () => {
  const theme = ref<Theme>(initialTheme())
  watch(
    theme,
    (t) => {
      if (typeof document !== 'undefined') document.documentElement.dataset.theme = t
      if (typeof localStorage !== 'undefined') localStorage.setItem(THEME_KEY, t)
    },
    { immediate: true },
  )
  return { theme }
})
