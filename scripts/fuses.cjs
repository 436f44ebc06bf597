/**
 * electron-builder afterPack hook: flips Electron's fuses on the packaged binary (Electron security
 * checklist #19, docs/tutorial/fuses.md). Check the result with
 *   npx @electron/fuses read --app <path to the packaged app or executable>
 * @electron/fuses 2 is ESM-only, hence the dynamic import. EnableEmbeddedAsarIntegrityValidation
 * needs the asar integrity electron-builder embeds; OnlyLoadAppFromAsar makes the app load only
 * from app.asar (native modules still load from app.asar.unpacked).
 */
// electron-builder loads afterPack hooks with require(), so this file is CommonJS.
const path = require('node:path')

/** The settings, exported so a test can assert them without Electron. */
const FUSE_SETTINGS = {
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
}

function executablePath(context) {
  const { electronPlatformName, appOutDir, packager } = context
  const name = packager.appInfo.productFilename
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') {
    return path.join(appOutDir, `${name}.app`)
  }
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${name}.exe`)
  return path.join(appOutDir, packager.executableName ?? name)
}

async function afterPack(context) {
  const { flipFuses, FuseVersion, FuseV1Options } = await import('@electron/fuses')
  const fuses = { version: FuseVersion.V1 }
  for (const [key, value] of Object.entries(FUSE_SETTINGS)) fuses[FuseV1Options[key]] = value
  await flipFuses(executablePath(context), {
    ...fuses,
    // macOS arm64 (electron-builder Arch 3) and universal (4) binaries must be re-signed after
    // their bytes change.
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' && [3, 4].includes(context.arch),
  })
}

module.exports = afterPack
module.exports.default = afterPack
module.exports.FUSE_SETTINGS = FUSE_SETTINGS
