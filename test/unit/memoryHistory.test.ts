// The memory history (src/history/memoryHistory.ts) against the HistoryStore contract: the
// reference the SQL stores are held to, checked against the same plain model they are.
import { MemoryHistory } from '../../src/history/memoryHistory.js';
import { historyContract } from '../store/historyContract.js';

historyContract('memory', {
  open: async () => ({ history: new MemoryHistory(), close: async () => {} }),
  runs: 200,
  closes: false,
});
