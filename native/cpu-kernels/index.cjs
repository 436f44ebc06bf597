'use strict'
// Loads the addon built by node-gyp at install. N-API: the same binary loads in Node and Electron.
module.exports = require('./build/Release/tfkd_cpu_kernels.node')
