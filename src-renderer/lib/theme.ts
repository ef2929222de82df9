/** Dark mode follows the OS: Element Plus switches its CSS variables on `html.dark`. */
export function followSystemColorScheme(): void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = (): void => {
    document.documentElement.classList.toggle('dark', query.matches);
  };
  apply();
  query.addEventListener('change', apply);
}
