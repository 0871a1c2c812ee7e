print("dbsecrets")
