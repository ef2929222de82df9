/** Words shared by many places: buttons, placeholders, the app's name. */
export default {
  close: 'Close',
};
