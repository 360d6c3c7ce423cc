"""Parts of the one `app.controller.Controller`, one module per area of the app's part 2.

Each module holds a mixin with that area's Kivy properties and actions (the playground, presets,
run comparison, versions, exports, the home screen). `Controller` inherits them all, so screens still
talk to one controller, and the controller is still the only caller of `peftstudio`.
"""
