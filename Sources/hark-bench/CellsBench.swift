enum CellsBench { static func run() { print("cells: not yet") } }
