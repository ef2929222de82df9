import type en from '../en/common';

export default {
  close: 'Schließen',
} satisfies typeof en;
