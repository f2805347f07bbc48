{
  "targets": [
    {
      "target_name": "asyncore",
      "sources": [
        "native/addon.cc",
        "native/address.cc",
        "native/args.cc",
        "native/async_wait.cc",
        "native/constants.cc",
        "native/errors.cc",
        "native/messages.cc",
        "native/netdb.cc",
        "native/process.cc",
        "native/readiness.cc",
        "native/sockets.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      }
    }
  ]
}
