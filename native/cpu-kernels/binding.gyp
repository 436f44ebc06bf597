{
  "targets": [
    {
      "target_name": "tfkd_cpu_kernels",
      "sources": ["src/kernels.cc", "src/binding.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=fast", "-pthread", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-pthread", "-Wno-psabi"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-ffp-contract=fast"],
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES"
      },
      "msvs_settings": { "VCCLCompilerTool": { "Optimization": 2, "AdditionalOptions": ["/std:c++17"] } }
    }
  ]
}
