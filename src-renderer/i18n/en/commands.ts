/** Every user command (menus, toolbar, context menus, shortcuts): its label, and why it cannot run now. */
export default {
  preferences: 'Preferences…',
};
