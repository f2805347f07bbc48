{
  "targets": [
    {
      "target_name": "asyncore",
      # native/sources.txt: the one list of sources, shared with CMakeLists.txt.
      "sources": ["<!@(node -p \"require('fs').readFileSync('native/sources.txt', 'utf8').split('\\n').map(s => s.trim()).filter(s => s && !s.startsWith('#')).join(' ')\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS == 'linux'", {
          # Needs no libstdc++ newer than Node 18's floor: see the header.
          "cflags_cc": ["-include", "<(module_root_dir)/native/compat/libstdcxx-floor.h"]
        }]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
