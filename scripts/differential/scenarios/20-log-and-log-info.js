// Items 55, 56: log() writes 'log: msg' to stderr (sent to stdout here so it is traced);
// log_info() prints 'type: msg' unless the type is ignored (by default 'warning').
const { Dispatcher } = require('../difftrace');

process.stderr.write = process.stdout.write.bind(process.stdout);
const d = new Dispatcher(null, new Map());
d.log('plain');
d.log(42);
d.logInfo('EGGS here', 'EGGS');
d.logInfo('default type');
d.logInfo('dropped', 'warning');
d.logInfo('error type', 'error');
d.ignoreLogTypes = new Set();
d.logInfo('now shown', 'warning');
d.ignoreLogTypes = new Set(['info', 'SPAM']);
d.logInfo('hidden');
d.logInfo('hidden too', 'SPAM');
d.logInfo('shown', 'EGGS');
